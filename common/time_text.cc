// UTC times as text: ISO 8601 output and the two input forms the command-line tools
// accept.
#include "common/time_text.h"

#include <cstdio>
#include <ctime>

#include "common/civil_time.h"

namespace ipn {

// "YYYY-MM-DD" (UTC midnight) or "YYYY-MM-DDTHH:MM:SSZ" to Unix microseconds.
Result<int64_t> ParseUtc(std::string_view text_view, std::string_view flag) {
  const std::string text(text_view);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char z = 0;
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z);
  const bool date_only = n == 3 && text.size() == 10;
  const bool full = n == 7 && z == 'Z' && text.size() == 20;
  if ((!date_only && !full) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60) {
    return Status::InvalidArgument(std::string(flag) +
                                   " must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  }
  // Refused rather than rolled over: 2024-02-31 is a typing mistake, not 2 March.
  const CivilDate date{y, static_cast<unsigned>(mo), static_cast<unsigned>(d)};
  if (mo < 1 || mo > 12) {
    return Status::InvalidArgument(std::string(flag) + ": " + text.substr(0, 10) +
                                   " is not a calendar date (months run from 01 to 12)");
  }
  if (d < 1 || !IsValidDate(date)) {
    return Status::InvalidArgument(std::string(flag) + ": " + text.substr(0, 10) +
                                   " is not a calendar date (" + FormatMonth(date) + " has " +
                                   std::to_string(DaysInMonth(date.year, date.month)) + " days)");
  }
  return DaysFromCivil(date) * kMicrosPerDay + h * kMicrosPerHour + mi * kMicrosPerMinute +
         s * kMicrosPerSecond;
}

std::string FormatUtc(int64_t us) {
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  return buf;
}

}  // namespace ipn
