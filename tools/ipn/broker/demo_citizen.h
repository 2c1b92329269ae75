// The demo's citizen: a resident asked about in the demo whose municipality withholds one
// provision (non-disclosure), enrolled at the portal with a fresh credential that is
// written out as a JSON Web Key — what a citizen pastes into the portal to log in.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ipn::cli {

struct DemoCitizen {
  int index = -1;               // which of the demo's residents (0-based)
  std::string credential_file;  // the JWK (0600)
  std::string portal_url;
};

// `codes` are the demo's residents, `asked` how many of the first ones the demo's
// public-assistance inquiries covered.
Result<DemoCitizen> EnrolDemoCitizen(int portal_port, const std::vector<std::string>& codes,
                                     size_t asked, const std::string& credential_file);

}  // namespace ipn::cli
