// Message admission: what every message from an agency must satisfy before any handler
// sees it. Whatever may end up in a record must be recordable — otherwise the refusal
// itself could not be recorded, and an agency could stop the core with one message.
#pragma once

#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::core {

// OK if every field of `envelope` that a record may hold (request id; an inquiry's
// provider, business and item; a record query's agency filter) passes the records
// library's own field rules. Views only: this runs for every message on the hot path.
Status CheckRecordable(const v1::Envelope& envelope);

}  // namespace ipn::core
