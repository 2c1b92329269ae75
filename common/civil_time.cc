// Civil-calendar arithmetic after H. Hinnant, "chrono-Compatible Low-Level Date
// Algorithms": a year is counted from March so that the leap day falls at its end, and
// 400-year eras (146097 days) keep every division on non-negative numbers.
#include "common/civil_time.h"

#include <cstdio>

namespace ipn {
namespace {

constexpr int64_t kDaysPerEra = 146097;  // 400 Gregorian years
constexpr int64_t kEpochShift = 719468;  // days from 0000-03-01 to 1970-01-01

}  // namespace

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

bool IsLeapYear(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

bool IsValidDate(const CivilDate& date) {
  return date.day >= 1 && date.day <= DaysInMonth(date.year, date.month);
}

int64_t DaysFromCivil(const CivilDate& date) {
  const int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned mp = date.month > 2 ? date.month - 3 : date.month + 9;  // March = 0
  const unsigned doy = (153 * mp + 2) / 5 + date.day - 1;                // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * kDaysPerEra + static_cast<int64_t>(doe) - kEpochShift;
}

CivilDate CivilFromDays(int64_t days) {
  const int64_t z = days + kEpochShift;
  const int64_t era = (z >= 0 ? z : z - (kDaysPerEra - 1)) / kDaysPerEra;
  const auto doe = static_cast<unsigned>(z - era * kDaysPerEra);               // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // March = 0
  CivilDate date;
  date.day = doy - (153 * mp + 2) / 5 + 1;
  date.month = mp < 10 ? mp + 3 : mp - 9;
  date.year = static_cast<int64_t>(yoe) + era * 400 + (date.month <= 2 ? 1 : 0);
  return date;
}

DayTime UtcDayTime(int64_t unix_us) {
  DayTime t;
  t.day = FloorDiv(unix_us, kMicrosPerDay);
  t.micros_of_day = unix_us - t.day * kMicrosPerDay;
  return t;
}

DayTime JstDayTime(int64_t unix_us) {
  // The offset is added to the time of day, not to unix_us, so that no time overflows.
  DayTime t = UtcDayTime(unix_us);
  t.micros_of_day += kJstOffsetMicros;
  if (t.micros_of_day >= kMicrosPerDay) {
    t.micros_of_day -= kMicrosPerDay;
    ++t.day;
  }
  return t;
}

int64_t JstDayStart(int64_t jst_day) {
  return jst_day * kMicrosPerDay - kJstOffsetMicros;
}

std::string FormatDate(const CivilDate& date) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(date.year), date.month,
                date.day);
  return buf;
}

std::string FormatMonth(const CivilDate& date) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u", static_cast<long long>(date.year), date.month);
  return buf;
}

std::string UtcMonthOf(int64_t unix_us) {
  return FormatMonth(CivilFromDays(UtcDayTime(unix_us).day));
}

std::string JstDateOf(int64_t unix_us) {
  return FormatDate(CivilFromDays(JstDayTime(unix_us).day));
}

}  // namespace ipn
