// JST calendar days (the unit of a permitted link's effective period) and their bounds in
// UTC microseconds: a day D runs from D 00:00 JST (= D-1 15:00 UTC) to D+1 00:00 JST.
// Thin wrappers over common/civil_time.h, kept for the policy's callers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/civil_time.h"
#include "common/status.h"

namespace ipn::policy {

// "YYYY-MM-DD" (years 1900-9999, a real calendar date) -> that day 00:00 JST, in UTC µs.
Result<int64_t> JstDayStartMicros(std::string_view date);

// The JST calendar day ("YYYY-MM-DD") containing `unix_us`.
std::string JstDateOf(int64_t unix_us);

inline constexpr int64_t kMicrosPerDay = ipn::kMicrosPerDay;

}  // namespace ipn::policy
