// An agency's declared office hours (JST minutes of the day), as the commission's
// hours file gives them ("08:30-17:15"); the off_hours anomaly rule compares inquiry times
// with them.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ipn::oversight {

// An agency's declared office hours, in JST (UTC+9) minutes of the day: [open, close).
struct OfficeHours {
  int open_minute = 0;
  int close_minute = 24 * 60;

  bool operator==(const OfficeHours&) const = default;
};

// Parses "HH:MM-HH:MM" ("08:30-17:15", "00:00-24:00"): two-digit hours and minutes, 24:00
// only as the close, open before close. Anything else is InvalidArgument.
Result<OfficeHours> ParseOfficeHours(std::string_view text);

// "HH:MM-HH:MM", as ParseOfficeHours reads it.
std::string FormatOfficeHours(const OfficeHours& hours);

}  // namespace ipn::oversight
