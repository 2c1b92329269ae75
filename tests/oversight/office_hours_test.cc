// Tests of oversight/office_hours: the "HH:MM-HH:MM" form read and written exactly.
#include "oversight/office_hours.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace ipn::oversight {
namespace {

TEST(OfficeHoursTest, ParsesHoursOfTheDay) {
  struct Case {
    std::string_view text;
    int open, close;
  };
  for (const Case& c : {Case{"08:30-17:15", 510, 1035}, Case{"00:00-24:00", 0, 1440},
                        Case{"23:59-24:00", 1439, 1440}, Case{"00:00-00:01", 0, 1}}) {
    Result<OfficeHours> hours = ParseOfficeHours(c.text);
    ASSERT_TRUE(hours.ok()) << c.text << ": " << hours.status().ToString();
    EXPECT_EQ(hours->open_minute, c.open) << c.text;
    EXPECT_EQ(hours->close_minute, c.close) << c.text;
  }
}

TEST(OfficeHoursTest, RefusesAnythingElse) {
  for (std::string_view text :
       {"", "8:30-17:15", "08:30-17:15 ", " 08:30-17:15", "08:30 - 17:15", "08:30–17:15",
        "08.30-17.15", "08:60-17:00", "24:00-24:00", "25:00-26:00", "08:00-24:01", "17:00-08:30",
        "09:00-09:00", "0830-1715", "08:30-17:15-18:00", "+8:30-17:15"}) {
    Result<OfficeHours> hours = ParseOfficeHours(text);
    EXPECT_FALSE(hours.ok()) << '"' << text << '"';
    if (!hours.ok()) {
      EXPECT_EQ(hours.status().code(), Status::Code::kInvalidArgument);
    }
  }
}

TEST(OfficeHoursTest, FormatsWhatItParses) {
  for (std::string_view text : {"08:30-17:15", "00:00-24:00", "23:59-24:00", "00:00-00:01"}) {
    Result<OfficeHours> hours = ParseOfficeHours(text);
    ASSERT_TRUE(hours.ok()) << text;
    EXPECT_EQ(FormatOfficeHours(*hours), text);
  }
  EXPECT_EQ(FormatOfficeHours(OfficeHours{}), "00:00-24:00");
  EXPECT_EQ(FormatOfficeHours(OfficeHours{9 * 60 + 5, 18 * 60}), "09:05-18:00");
}

}  // namespace
}  // namespace ipn::oversight
