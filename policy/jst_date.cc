// JST calendar-day arithmetic (proleptic Gregorian; days_from_civil after H. Hinnant).
#include "policy/jst_date.h"

#include <cstdio>

namespace ipn::policy {
namespace {

constexpr int64_t kJstOffsetMicros = 9LL * 3'600'000'000LL;

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool ParseDigits(std::string_view s, unsigned* out) {
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<int64_t> JstDayStartMicros(std::string_view date) {
  unsigned y = 0, m = 0, d = 0;
  if (date.size() != 10 || date[4] != '-' || date[7] != '-' ||
      !ParseDigits(date.substr(0, 4), &y) || !ParseDigits(date.substr(5, 2), &m) ||
      !ParseDigits(date.substr(8, 2), &d)) {
    return Status::InvalidArgument("date '" + std::string(date.substr(0, 32)) +
                                   "' is not of the form YYYY-MM-DD");
  }
  if (y < 1900 || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) {
    return Status::InvalidArgument("date '" + std::string(date) + "' is not a calendar date");
  }
  return DaysFromCivil(y, m, d) * kMicrosPerDay - kJstOffsetMicros;
}

std::string JstDateOf(int64_t unix_us) {
  const int64_t jst = unix_us + kJstOffsetMicros;
  int64_t days = jst / kMicrosPerDay;
  if (jst % kMicrosPerDay < 0) --days;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

}  // namespace ipn::policy
