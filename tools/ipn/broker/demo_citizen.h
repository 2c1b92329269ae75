// The demo's citizen: a resident asked about in the demo whose municipality withholds one
// provision (non-disclosure). The demo issues them a card (a SoftHSM2 token in the demo's
// own token store, the card's key made inside it) and links it to them at the portal
// through the registry link, as the issuing counter does; the citizen then enrols at the
// portal's page with a card signature over its challenge (`ipn card sign`).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ipn::localnet {
class LocalNetwork;
}

namespace ipn::cli {

inline constexpr const char* kDemoCardToken = "card-demo";
inline constexpr const char* kDemoCardPin = "1234";

struct DemoCitizen {
  int index = -1;            // which of the demo's residents (0-based)
  std::string card_token;    // the card's token label
  std::string card_serial;   // its certificate's serial
  std::string softhsm_conf;  // SOFTHSM2_CONF for `ipn card sign`
  std::string portal_url;
  std::string origin;  // what the card signs for
};

// `codes` are the demo's residents, `asked` how many of the first ones the demo's
// public-assistance inquiries covered; the cards' token store goes in `cards_dir`.
Result<DemoCitizen> IssueDemoCitizenCard(const localnet::LocalNetwork& net,
                                         const std::string& registry_agency,
                                         const std::string& portal_agency,
                                         const std::vector<std::string>& codes, size_t asked,
                                         const std::string& cards_dir);

}  // namespace ipn::cli
