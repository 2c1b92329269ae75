// RequestCardLink: the card issuer's side of a card link (the registry's role). At the
// issuing counter the holder's resident code is known; it goes, sealed to the core's key,
// through the registry link's node in a symbol request for the portal's agency with
// person reference "card:<serial>". The core issues the portal its own symbol for the
// person, which the portal's CardLinks stores against the card. The code is wiped here
// and is never stored — not by the issuer, not by the portal, which never sees it.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"

namespace ipn::portal {

// Waits for the core's answer; InvalidArgument for a resident code the core refuses,
// Unavailable when the link could not be made. `resident_code` is wiped.
Status RequestCardLink(const std::string& registry_node_endpoint, const std::string& portal_agency,
                       const std::string& serial, std::string& resident_code,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace ipn::portal
