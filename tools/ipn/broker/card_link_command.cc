// `ipn card link`: the card issuer links an issued card to its holder at the portal
// (docs/security.md, "Cards"). The holder's resident code — from IPN_RESIDENT_CODE or a
// prompt without echo — goes sealed to the core through the registry link's node, which
// issues the portal its own symbol for the person under "card:<serial>". The portal must
// be running (it stores the link as it arrives). Nothing of the code is kept anywhere.
#include <cstdio>
#include <memory>
#include <string>

#include "card/card.h"
#include "portal/card_link_request.h"
#include "symbol/passphrase.h"
#include "tools/ipn/commands.h"

namespace ipn::cli {
namespace {

struct LinkArgs {
  std::string issuer_dir;
  std::string node;
  std::string portal = "PORTAL-0001";
  std::string serial;
};

int RunLink(const LinkArgs& a) {
  auto issuer = card::CardIssuer::Open(a.issuer_dir);
  if (!issuer.ok()) {
    std::fprintf(stderr, "ipn card link: %s\n", issuer.status().ToString().c_str());
    return 1;
  }
  const card::CardEntry* entry = nullptr;
  for (const card::CardEntry& e : (*issuer)->cards()) {
    if (e.serial == a.serial) entry = &e;
  }
  if (entry == nullptr || entry->revoked) {
    std::fprintf(stderr, "ipn card link: card %s is %s\n", a.serial.c_str(),
                 entry == nullptr ? "not in this issuer's register" : "revoked");
    return 1;
  }
  auto code =
      symbol::ReadPassphrase("Resident code of the card's holder: ", false, "IPN_RESIDENT_CODE");
  if (!code.ok()) {
    std::fprintf(stderr, "ipn card link: %s\n", code.status().ToString().c_str());
    return 1;
  }
  std::string text(symbol::AsStringView(*code));
  Status linked = portal::RequestCardLink(a.node, a.portal, a.serial, text);
  if (!linked.ok()) {
    std::fprintf(stderr, "ipn card link: %s\n", linked.ToString().c_str());
    return 1;
  }
  std::printf("card %s linked at %s\n", a.serial.c_str(), a.portal.c_str());
  return 0;
}

}  // namespace

void RegisterCardLinkCommand(CLI::App& app, Context& ctx) {
  CLI::App* group = app.get_subcommand("card");
  auto a = std::make_shared<LinkArgs>();
  auto* link = group->add_subcommand(
      "link",
      "Link an issued card to its holder at the portal (resident code: prompt or "
      "IPN_RESIDENT_CODE)");
  link->add_option("--issuer", a->issuer_dir, "The card issuer's directory")->required();
  link->add_option("--node", a->node, "The registry link's node, local endpoint (ipc://PATH)")
      ->required();
  link->add_option("--portal", a->portal, "The portal's agency code")->capture_default_str();
  link->add_option("--serial", a->serial, "The card's serial (as `ipn card issue` printed)")
      ->required();
  link->callback([&ctx, a] { ctx.exit_code = RunLink(*a); });
}

}  // namespace ipn::cli
