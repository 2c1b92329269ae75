// Message admission: what every message from an agency must satisfy before any handler
// sees it — the field limits of common/limits.h, and that whatever may end up in a record
// is recordable (otherwise the refusal itself could not be recorded, and an agency could
// stop the core with one message). Cheap checks on views only: this runs for every
// message on the hot path, before anything is parsed further or recorded.
#pragma once

#include <string_view>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::core {

// OK if every field of `envelope` is within its limit and every field a record may hold
// (request id; an inquiry's provider, business and item; a record query's agency
// filter) passes the records library's own field rules. The message says which field.
Status CheckAdmissible(const v1::Envelope& envelope);

// A node's answer endpoint as a Hello announces it: tcp://HOST:PORT, printable ASCII,
// at most limits::kMaxEndpointBytes. Every peer will connect to it, so nothing else goes.
Status CheckAnswerEndpoint(std::string_view endpoint);

}  // namespace ipn::core
