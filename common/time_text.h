// UTC times as text, for tools and reports.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ipn {

// "YYYY-MM-DD" (UTC midnight) or "YYYY-MM-DDTHH:MM:SSZ" to Unix microseconds; the error
// names `flag`.
Result<int64_t> ParseUtc(std::string_view text, std::string_view flag);

// "2026-11-23T04:05:06.123456Z".
std::string FormatUtc(int64_t unix_us);

}  // namespace ipn
