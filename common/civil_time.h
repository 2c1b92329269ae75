// Civil-calendar arithmetic (proleptic Gregorian; H. Hinnant's days_from_civil and
// civil_from_days) and the two clocks the project reports in: UTC, and JST (UTC+9, no
// daylight saving), the zone of a permitted link's effective period and of an agency's
// office hours. Times are Unix microseconds; day numbers count from 1970-01-01 (in the
// zone concerned), negative before it.
#pragma once

#include <cstdint>
#include <string>

namespace ipn {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;
inline constexpr int64_t kJstOffsetMicros = 9 * kMicrosPerHour;

struct CivilDate {
  int64_t year = 1970;
  unsigned month = 1;  // 1…12
  unsigned day = 1;    // 1…31

  bool operator==(const CivilDate&) const = default;
};

// A time split into its day number and the microseconds since that day's midnight
// (0 ≤ micros_of_day < kMicrosPerDay).
struct DayTime {
  int64_t day = 0;
  int64_t micros_of_day = 0;
};

// a / b rounded towards negative infinity (b > 0).
int64_t FloorDiv(int64_t a, int64_t b);

bool IsLeapYear(int64_t year);
// 28…31; 0 when `month` is not 1…12.
unsigned DaysInMonth(int64_t year, unsigned month);
// Whether the date exists: month 1…12 and day 1…DaysInMonth (2024-02-31 does not).
bool IsValidDate(const CivilDate& date);

// Days since 1970-01-01 of a valid date (an invalid one is not refused: its day rolls
// over, as 2024-02-31 → 2024-03-02; check IsValidDate first).
int64_t DaysFromCivil(const CivilDate& date);
CivilDate CivilFromDays(int64_t days);

// The UTC / JST day of `unix_us` and the time into it.
DayTime UtcDayTime(int64_t unix_us);
DayTime JstDayTime(int64_t unix_us);
// 00:00 JST of JST day number `jst_day` (= 15:00 UTC of the day before), in Unix µs.
int64_t JstDayStart(int64_t jst_day);

// "YYYY-MM-DD" and "YYYY-MM".
std::string FormatDate(const CivilDate& date);
std::string FormatMonth(const CivilDate& date);
// The UTC calendar month ("YYYY-MM") and the JST calendar day ("YYYY-MM-DD") of `unix_us`.
std::string UtcMonthOf(int64_t unix_us);
std::string JstDateOf(int64_t unix_us);

}  // namespace ipn
