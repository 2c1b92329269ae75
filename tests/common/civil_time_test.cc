// Tests of common/civil_time: day numbers against known dates, round trips over every day
// of ±2,000 years, leap years, impossible dates, and the UTC/JST day boundaries.
#include "common/civil_time.h"

#include <gtest/gtest.h>

namespace ipn {
namespace {

constexpr int64_t kSecond = kMicrosPerSecond;

TEST(CivilTimeTest, DaysFromCivilMatchesKnownDates) {
  EXPECT_EQ(DaysFromCivil({1970, 1, 1}), 0);
  EXPECT_EQ(DaysFromCivil({1969, 12, 31}), -1);
  EXPECT_EQ(DaysFromCivil({2000, 3, 1}), 11017);
  EXPECT_EQ(DaysFromCivil({2024, 2, 29}), 19782);
  EXPECT_EQ(DaysFromCivil({1900, 3, 1}), -25508);
  EXPECT_EQ(DaysFromCivil({2400, 2, 29}), 157113);
  EXPECT_EQ(DaysFromCivil({1, 1, 1}), -719162);
  EXPECT_EQ(DaysFromCivil({9999, 12, 31}), 2932896);
}

TEST(CivilTimeTest, CivilFromDaysMatchesKnownDates) {
  EXPECT_EQ(CivilFromDays(0), (CivilDate{1970, 1, 1}));
  EXPECT_EQ(CivilFromDays(-1), (CivilDate{1969, 12, 31}));
  EXPECT_EQ(CivilFromDays(19782), (CivilDate{2024, 2, 29}));
  EXPECT_EQ(CivilFromDays(19783), (CivilDate{2024, 3, 1}));
  EXPECT_EQ(CivilFromDays(-719162), (CivilDate{1, 1, 1}));
  EXPECT_EQ(CivilFromDays(2932896), (CivilDate{9999, 12, 31}));
}

// Every day from about 1 BC… to 3970: each converts back to itself, and each is the day
// after the previous one in the calendar.
TEST(CivilTimeTest, RoundTripsEveryDayAndStepsByOne) {
  CivilDate previous = CivilFromDays(-730000 - 1);
  for (int64_t day = -730000; day <= 730000; ++day) {
    const CivilDate date = CivilFromDays(day);
    ASSERT_TRUE(IsValidDate(date)) << day;
    ASSERT_EQ(DaysFromCivil(date), day);
    const bool next_day =
        date.year == previous.year && date.month == previous.month && date.day == previous.day + 1;
    const bool next_month = date.year == previous.year && date.month == previous.month + 1 &&
                            date.day == 1 &&
                            previous.day == DaysInMonth(previous.year, previous.month);
    const bool next_year = date.year == previous.year + 1 && date.month == 1 && date.day == 1 &&
                           previous.month == 12 && previous.day == 31;
    ASSERT_TRUE(next_day || next_month || next_year) << day;
    previous = date;
  }
}

TEST(CivilTimeTest, LeapYears) {
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_TRUE(IsLeapYear(2400));
  EXPECT_FALSE(IsLeapYear(2023));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_FALSE(IsLeapYear(2100));
  EXPECT_EQ(DaysInMonth(2024, 2), 29u);
  EXPECT_EQ(DaysInMonth(2023, 2), 28u);
  EXPECT_EQ(DaysInMonth(1900, 2), 28u);
  EXPECT_EQ(DaysInMonth(2000, 2), 29u);
  EXPECT_EQ(DaysInMonth(2024, 4), 30u);
  EXPECT_EQ(DaysInMonth(2024, 12), 31u);
  EXPECT_EQ(DaysFromCivil({2024, 12, 31}) - DaysFromCivil({2024, 1, 1}), 365);
  EXPECT_EQ(DaysFromCivil({2023, 12, 31}) - DaysFromCivil({2023, 1, 1}), 364);
}

TEST(CivilTimeTest, RefusesImpossibleDates) {
  EXPECT_TRUE(IsValidDate({2024, 2, 29}));
  EXPECT_FALSE(IsValidDate({2024, 2, 30}));
  EXPECT_FALSE(IsValidDate({2024, 2, 31}));
  EXPECT_FALSE(IsValidDate({2023, 2, 29}));
  EXPECT_FALSE(IsValidDate({1900, 2, 29}));
  EXPECT_FALSE(IsValidDate({2024, 4, 31}));
  EXPECT_FALSE(IsValidDate({2024, 13, 1}));
  EXPECT_FALSE(IsValidDate({2024, 0, 1}));
  EXPECT_FALSE(IsValidDate({2024, 1, 0}));
  EXPECT_EQ(DaysInMonth(2024, 13), 0u);
  EXPECT_EQ(DaysInMonth(2024, 0), 0u);
}

TEST(CivilTimeTest, FloorDivRoundsDown) {
  EXPECT_EQ(FloorDiv(7, 2), 3);
  EXPECT_EQ(FloorDiv(-7, 2), -4);
  EXPECT_EQ(FloorDiv(-8, 2), -4);
  EXPECT_EQ(FloorDiv(0, 5), 0);
  EXPECT_EQ(FloorDiv(-1, kMicrosPerDay), -1);
}

TEST(CivilTimeTest, UtcDayTime) {
  const int64_t leap_day = 1709164800 * kSecond;  // 2024-02-29T00:00:00Z
  EXPECT_EQ(UtcDayTime(leap_day).day, 19782);
  EXPECT_EQ(UtcDayTime(leap_day).micros_of_day, 0);
  EXPECT_EQ(UtcDayTime(leap_day - 1).day, 19781);
  EXPECT_EQ(UtcDayTime(leap_day - 1).micros_of_day, kMicrosPerDay - 1);
  EXPECT_EQ(UtcDayTime(-1).day, -1);
  EXPECT_EQ(UtcDayTime(-1).micros_of_day, kMicrosPerDay - 1);
  EXPECT_EQ(UtcMonthOf(leap_day), "2024-02");
  EXPECT_EQ(UtcMonthOf(leap_day + kMicrosPerDay), "2024-03");
  EXPECT_EQ(UtcMonthOf(-1), "1969-12");
  EXPECT_EQ(UtcMonthOf(0), "1970-01");
}

// A JST day D runs from D-1 15:00 UTC to D 15:00 UTC.
TEST(CivilTimeTest, JstDayBoundaries) {
  const int64_t march_first_jst = 1709218800 * kSecond;  // 2024-02-29T15:00:00Z
  EXPECT_EQ(JstDayStart(DaysFromCivil({2024, 3, 1})), march_first_jst);
  EXPECT_EQ(JstDateOf(march_first_jst - 1), "2024-02-29");
  EXPECT_EQ(JstDateOf(march_first_jst), "2024-03-01");
  EXPECT_EQ(JstDayTime(march_first_jst).day, DaysFromCivil({2024, 3, 1}));
  EXPECT_EQ(JstDayTime(march_first_jst).micros_of_day, 0);
  EXPECT_EQ(JstDayTime(march_first_jst - 1).day, DaysFromCivil({2024, 2, 29}));
  EXPECT_EQ(JstDayTime(march_first_jst - 1).micros_of_day, kMicrosPerDay - 1);

  // New year: 2024-12-31T15:00:00Z is 2025-01-01 00:00 JST.
  const int64_t new_year_jst = 1735657200 * kSecond;
  EXPECT_EQ(JstDateOf(new_year_jst - 1), "2024-12-31");
  EXPECT_EQ(JstDateOf(new_year_jst), "2025-01-01");

  // Before the epoch: 1969-12-31T23:59:59.999999Z is 1970-01-01 08:59:59.999999 JST.
  EXPECT_EQ(JstDayTime(-1).day, 0);
  EXPECT_EQ(JstDayTime(-1).micros_of_day, kJstOffsetMicros - 1);
  EXPECT_EQ(JstDateOf(-1), "1970-01-01");
  EXPECT_EQ(JstDateOf(-kJstOffsetMicros - 1), "1969-12-31");
  EXPECT_EQ(JstDayStart(0), -kJstOffsetMicros);
}

TEST(CivilTimeTest, FormatsDatesAndMonths) {
  EXPECT_EQ(FormatDate({2024, 2, 9}), "2024-02-09");
  EXPECT_EQ(FormatDate({1, 1, 1}), "0001-01-01");
  EXPECT_EQ(FormatMonth({2024, 11, 30}), "2024-11");
}

}  // namespace
}  // namespace ipn
