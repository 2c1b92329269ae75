// Tests of common/time_text: the two input forms of ParseUtc, its refusal of impossible
// dates and times, and FormatUtc.
#include "common/time_text.h"

#include <gtest/gtest.h>

namespace ipn {
namespace {

TEST(TimeTextTest, ParsesDateAndDateTime) {
  Result<int64_t> day = ParseUtc("2024-02-29", "--from");
  ASSERT_TRUE(day.ok()) << day.status().ToString();
  EXPECT_EQ(*day, int64_t{1709164800} * 1000000);
  Result<int64_t> full = ParseUtc("2026-11-23T04:05:06Z", "--from");
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(*full, int64_t{1795406706} * 1000000);
  Result<int64_t> epoch = ParseUtc("1970-01-01T00:00:00Z", "--to");
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(*epoch, 0);
  Result<int64_t> before = ParseUtc("1969-12-31T23:59:59Z", "--to");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, -1000000);
}

TEST(TimeTextTest, RefusesImpossibleDates) {
  // Used to roll over: 2024-02-31 became 2024-03-02.
  Result<int64_t> feb31 = ParseUtc("2024-02-31", "--from");
  ASSERT_FALSE(feb31.ok());
  EXPECT_EQ(feb31.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(feb31.status().message(),
            "--from: 2024-02-31 is not a calendar date (2024-02 has 29 days)");

  Result<int64_t> feb29 = ParseUtc("2023-02-29T12:00:00Z", "--to");
  ASSERT_FALSE(feb29.ok());
  EXPECT_EQ(feb29.status().message(),
            "--to: 2023-02-29 is not a calendar date (2023-02 has 28 days)");

  Result<int64_t> month13 = ParseUtc("2024-13-01", "--from");
  ASSERT_FALSE(month13.ok());
  EXPECT_EQ(month13.status().message(),
            "--from: 2024-13-01 is not a calendar date (months run from 01 to 12)");

  EXPECT_FALSE(ParseUtc("2024-00-10", "--from").ok());
  EXPECT_FALSE(ParseUtc("2024-04-31", "--from").ok());
  EXPECT_FALSE(ParseUtc("2024-01-00", "--from").ok());
  EXPECT_FALSE(ParseUtc("1900-02-29", "--from").ok());
  EXPECT_TRUE(ParseUtc("2000-02-29", "--from").ok());
}

TEST(TimeTextTest, RefusesMalformedText) {
  for (const char* text : {"2024-02-1", "2024/02/10", "2024-02-10T10:00:00", "2024-02-10T24:00:00Z",
                           "2024-02-10T10:60:00Z", "2024-02-10 10:00:00Z", ""}) {
    Result<int64_t> r = ParseUtc(text, "--at");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message(), "--at must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ") << text;
  }
}

TEST(TimeTextTest, FormatsUtc) {
  EXPECT_EQ(FormatUtc(int64_t{1795406706} * 1000000 + 123456), "2026-11-23T04:05:06.123456Z");
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00.000000Z");
}

}  // namespace
}  // namespace ipn
