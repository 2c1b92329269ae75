// UTC times as text: ISO 8601 output and the two input forms the command-line tools
// accept.
#include "common/time_text.h"

#include <cstdio>
#include <ctime>

namespace ipn {

// "YYYY-MM-DD" (UTC midnight) or "YYYY-MM-DDTHH:MM:SSZ" to Unix microseconds.
Result<int64_t> ParseUtc(std::string_view text_view, std::string_view flag) {
  const std::string text(text_view);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char z = 0;
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &s, &z);
  const bool date_only = n == 3 && text.size() == 10;
  const bool full = n == 7 && z == 'Z' && text.size() == 20;
  if ((!date_only && !full) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      s > 60) {
    return Status::InvalidArgument(std::string(flag) +
                                   " must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  }
  // days_from_civil (H. Hinnant).
  const int yy = y - (mo <= 2 ? 1 : 0);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  return ((days * 24 + h) * 60 + mi) * int64_t{60000000} + int64_t{s} * 1000000;
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
