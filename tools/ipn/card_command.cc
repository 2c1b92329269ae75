// `ipn card`: citizens' cards (issue #15; docs/security.md, "Cards").
//   init-issuer  the card issuer's CA (the registry's role): issuer.key, issuer.crt (what
//                services pin), an empty register and revocation list
//   issue        a blank card token (initialised with the citizen's PIN) gets its key,
//                generated inside it, and its certificate; prints the serial
//   revoke       marks a card revoked and republishes the revocation list
//   crl          republishes the revocation list (it expires: services fail closed)
//   list         the cards issued, with their state
//   sign         the citizen's local card application: signs a service's challenge,
//                bound to the service's origin, after the PIN; prints JSON
// The card's PIN comes from IPN_TOKEN_PIN or a prompt.
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "card/card.h"
#include "common/encoding.h"
#include "symbol/passphrase.h"
#include "tools/ipn/commands.h"
#include "tools/ipn/token_options.h"

namespace ipn::cli {
namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "ipn card: %s\n", s.ToString().c_str());
  return 1;
}

int64_t NowSeconds() {
  return static_cast<int64_t>(std::time(nullptr));
}

struct CardArgs {
  std::string issuer_dir;
  std::string name = "IPN card issuer";
  std::string module = token::kSoftHsmModule;
  std::string token;
  std::string serial;
  std::string origin;
  std::string challenge;
  int crl_days = 7;
};

int RunIssue(const CardArgs& a) {
  auto issuer = card::CardIssuer::Open(a.issuer_dir);
  if (!issuer.ok()) return Fail(issuer.status());
  auto opened = OpenToken({a.module, a.token});
  if (!opened.ok()) return Fail(opened.status());
  auto serial = (*issuer)->Issue(**opened, NowSeconds());
  if (!serial.ok()) return Fail(serial.status());
  std::fprintf(stderr, "card %s issued into token %s (its key was generated there)\n",
               serial->c_str(), a.token.c_str());
  std::printf("%s\n", serial->c_str());
  return 0;
}

int RunList(const CardArgs& a) {
  auto issuer = card::CardIssuer::Open(a.issuer_dir);
  if (!issuer.ok()) return Fail(issuer.status());
  std::printf("%-34s %-12s %s\n", "SERIAL", "ISSUED", "STATE");
  for (const card::CardEntry& e : (*issuer)->cards()) {
    std::printf("%-34s %-12lld %s\n", e.serial.c_str(), static_cast<long long>(e.issued_s),
                e.revoked ? ("revoked at " + std::to_string(e.revoked_s)).c_str() : "active");
  }
  return 0;
}

int RunSign(const CardArgs& a) {
  auto challenge = Base64UrlDecode(a.challenge);
  if (!challenge.ok() || challenge->empty()) {
    return Fail(Status::InvalidArgument("--challenge must be base64url"));
  }
  auto pin = symbol::ReadPassphrase("PIN of card " + a.token + ": ", false, token::kTokenPinEnv);
  if (!pin.ok()) return Fail(pin.status());
  auto signed_ =
      card::SignWithCard({a.module, a.token}, symbol::AsStringView(*pin), a.origin, *challenge);
  if (!signed_.ok()) return Fail(signed_.status());
  const auto* der = reinterpret_cast<const uint8_t*>(signed_->certificate_der.data());
  nlohmann::json out = {{"certificate", Base64UrlEncode({der, signed_->certificate_der.size()})},
                        {"signature", Base64UrlEncode(signed_->signature)},
                        {"origin", a.origin}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

void RegisterCardCommand(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("card", "Citizens' cards: the issuer, and the card application");
  group->require_subcommand(1);
  auto a = std::make_shared<CardArgs>();
  auto issuer_option = [&](CLI::App* cmd) {
    cmd->add_option("--issuer", a->issuer_dir, "The card issuer's directory")->required();
  };
  auto token_option = [&](CLI::App* cmd) {
    cmd->add_option("--token", a->token, "The card's token label")->required();
    cmd->add_option("--module", a->module, "PKCS#11 module")->capture_default_str();
  };

  auto* init = group->add_subcommand("init-issuer", "Create the card issuer's CA");
  issuer_option(init);
  init->add_option("--name", a->name, "The issuer's name in certificates")->capture_default_str();
  init->callback([&ctx, a] {
    Status s = card::CardIssuer::Init(a->issuer_dir, a->name, NowSeconds());
    ctx.exit_code = s.ok() ? 0 : Fail(s);
    if (s.ok()) {
      std::printf("card issuer created; services pin %s\n",
                  card::CardIssuer::CertificatePath(a->issuer_dir).c_str());
    }
  });

  auto* issue = group->add_subcommand("issue", "Issue a card into a blank token");
  issuer_option(issue);
  token_option(issue);
  issue->callback([&ctx, a] { ctx.exit_code = RunIssue(*a); });

  auto* revoke = group->add_subcommand("revoke", "Revoke a card and republish the list");
  issuer_option(revoke);
  revoke->add_option("--serial", a->serial, "The card's serial")->required();
  revoke->add_option("--crl-days", a->crl_days, "Days the new list is valid")
      ->capture_default_str();
  revoke->callback([&ctx, a] {
    auto issuer = card::CardIssuer::Open(a->issuer_dir);
    Status s =
        issuer.ok() ? (*issuer)->Revoke(a->serial, NowSeconds(), a->crl_days) : issuer.status();
    ctx.exit_code = s.ok() ? 0 : Fail(s);
    if (s.ok()) std::printf("card %s revoked\n", a->serial.c_str());
  });

  auto* crl = group->add_subcommand("crl", "Republish the revocation list (before it expires)");
  issuer_option(crl);
  crl->add_option("--crl-days", a->crl_days, "Days the new list is valid")->capture_default_str();
  crl->callback([&ctx, a] {
    auto issuer = card::CardIssuer::Open(a->issuer_dir);
    Status s =
        issuer.ok() ? (*issuer)->PublishRevocations(NowSeconds(), a->crl_days) : issuer.status();
    ctx.exit_code = s.ok() ? 0 : Fail(s);
  });

  auto* list = group->add_subcommand("list", "The cards issued");
  issuer_option(list);
  list->callback([&ctx, a] { ctx.exit_code = RunList(*a); });

  auto* sign = group->add_subcommand(
      "sign", "The local card application: sign a service's challenge for its origin");
  token_option(sign);
  sign->add_option("--origin", a->origin, "The service's origin, e.g. http://127.0.0.1:8443")
      ->required();
  sign->add_option("--challenge", a->challenge, "The service's challenge (base64url)")->required();
  sign->callback([&ctx, a] { ctx.exit_code = RunSign(*a); });
}

}  // namespace ipn::cli
