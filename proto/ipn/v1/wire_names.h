// Text names of the wire's enum values, as the tools, logs and metrics print them: the
// protobuf value name without its enum prefix ("OUTCOME_NOT_HELD" → "NOT_HELD",
// "DENY_REASON_NO_SUCH_LINK" → "NO_SUCH_LINK", "ERROR_CODE_MALFORMED" → "MALFORMED").
// No allocation: the views point into the generated descriptors, which live as long as the
// program. A value the schema does not name gives "".
#pragma once

#include <string_view>

#include "ipn/v1/wire.pb.h"

namespace ipn::v1 {

std::string_view OutcomeName(Outcome outcome);
std::string_view DenyReasonName(DenyReason reason);
std::string_view ErrorCodeName(ErrorCode code);

}  // namespace ipn::v1
