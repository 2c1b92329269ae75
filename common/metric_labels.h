// Metric labels for wire enums: the one function each daemon's stats use, so that a label
// means the same everywhere ("OUTCOME_NOT_HELD" -> "not_held",
// "DENY_REASON_NO_SUCH_LINK" -> "no_such_link").
#pragma once

#include <string>

#include "ipn/v1/wire.pb.h"

namespace ipn {

std::string MetricLabel(v1::Outcome outcome);
std::string MetricLabel(v1::DenyReason reason);

}  // namespace ipn
