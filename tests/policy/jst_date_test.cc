// JST calendar days and their UTC bounds.
#include "policy/jst_date.h"

#include <gtest/gtest.h>

namespace ipn::policy {
namespace {

TEST(PolicyJstDateTest, DayStartsAtMidnightJstWhichIsThreePmUtcTheDayBefore) {
  auto start = JstDayStartMicros("1970-01-02");
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(*start, 15LL * 3600 * 1'000'000);  // 1970-01-01 15:00 UTC
  auto y2024 = JstDayStartMicros("2024-05-27");
  ASSERT_TRUE(y2024.ok());
  EXPECT_EQ(*y2024, 1716735600LL * 1'000'000);  // 2024-05-26T15:00:00Z
}

TEST(PolicyJstDateTest, DateOfRoundTripsAtTheEdges) {
  const int64_t start = *JstDayStartMicros("2024-02-29");
  EXPECT_EQ(JstDateOf(start), "2024-02-29");
  EXPECT_EQ(JstDateOf(start - 1), "2024-02-28");
  EXPECT_EQ(JstDateOf(start + kMicrosPerDay - 1), "2024-02-29");
  EXPECT_EQ(JstDateOf(start + kMicrosPerDay), "2024-03-01");
  EXPECT_EQ(JstDateOf(*JstDayStartMicros("1969-12-31")), "1969-12-31");
}

TEST(PolicyJstDateTest, RefusesMalformedAndImpossibleDates) {
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024/01/01",
                          "24-01-01", "2024-1-01", "", "1899-12-31", "2024-01-01T00:00"}) {
    EXPECT_FALSE(JstDayStartMicros(bad).ok()) << bad;
  }
  EXPECT_TRUE(JstDayStartMicros("2000-02-29").ok());
  EXPECT_FALSE(JstDayStartMicros("1900-02-29").ok());
}

}  // namespace
}  // namespace ipn::policy
