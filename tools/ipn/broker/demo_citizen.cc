// The demo's citizen: chosen by the municipality's copies, given a card, linked.
#include "tools/ipn/broker/demo_citizen.h"

#include <sodium.h>

#include <ctime>

#include "card/card.h"
#include "common/encoding.h"
#include "portal/card_link_request.h"
#include "token/pkcs11_token.h"
#include "token/softhsm_store.h"
#include "tools/ipn/broker/demo_copies.h"
#include "tools/localnet/local_network.h"

namespace ipn::cli {
namespace {

int ChooseCitizen(const std::vector<std::string>& codes, size_t asked) {
  // The municipality's copies say, per person, whether its public-assistance answer is
  // withheld from the person (a non-disclosure copy).
  for (size_t i = 0; i < asked && i < codes.size(); ++i) {
    demo::DatasetAnswer a = DemoCopy("MUN-131016", i, "public-assistance");
    if (a.held && a.non_disclosure) return static_cast<int>(i);
  }
  return -1;
}

// The card's key and certificate, made inside the card (a SoftHSM2 token).
Result<std::string> IssueCard(const localnet::LocalNetwork& net, const std::string& cards_dir) {
  Result<token::SoftHsmStore> store = token::SoftHsmStore::Create(cards_dir);
  if (!store.ok()) return store.status();
  store->Activate();
  uint8_t so_pin[16];
  randombytes_buf(so_pin, sizeof so_pin);
  IPN_RETURN_IF_ERROR(store->InitToken(kDemoCardToken, kDemoCardPin, HexEncode(so_pin)));
  sodium_memzero(so_pin, sizeof so_pin);
  auto issuer = card::CardIssuer::Open(net.card_issuer_dir());
  if (!issuer.ok()) return issuer.status();
  // The card's session closes at the end of this scope: the card application opens it next.
  auto card = token::Pkcs11Token::Open({token::kSoftHsmModule, kDemoCardToken}, kDemoCardPin);
  if (!card.ok()) return card.status();
  return (*issuer)->Issue(**card, static_cast<int64_t>(std::time(nullptr)));
}

}  // namespace

Result<DemoCitizen> IssueDemoCitizenCard(const localnet::LocalNetwork& net,
                                         const std::string& registry_agency,
                                         const std::string& portal_agency,
                                         const std::vector<std::string>& codes, size_t asked,
                                         const std::string& cards_dir) {
  DemoCitizen citizen;
  citizen.index = ChooseCitizen(codes, asked);
  if (citizen.index < 0) return Status::NotFound("no demo resident has a withheld provision");
  Result<std::string> serial = IssueCard(net, cards_dir);
  if (!serial.ok()) return serial.status().WithContext("issuing the card");
  std::string code = codes[static_cast<size_t>(citizen.index)];
  IPN_RETURN_IF_ERROR(
      portal::RequestCardLink(net.LocalEndpoint(registry_agency), portal_agency, *serial, code)
          .WithContext("linking the card"));
  citizen.card_token = kDemoCardToken;
  citizen.card_serial = *serial;
  citizen.softhsm_conf = cards_dir + "/softhsm2.conf";
  citizen.origin = net.portal_origin();
  citizen.portal_url = citizen.origin + "/";
  return citizen;
}

}  // namespace ipn::cli
