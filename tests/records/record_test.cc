// Records: the canonical leaf encoding round-trips every field, validation refuses bad
// input with a clear message, event names are stable.
#include "records/record.h"

#include <gtest/gtest.h>

#include "common/encoding.h"
#include "records/record_codec.h"
#include "tests/records/record_test_util.h"

namespace ipn::records {
namespace {

TEST(RecordTest, LeafEncodingRoundTripsEveryField) {
  for (int e = 0; e < 8; ++e) {
    Record r = testing::SampleRecord(5, 3);
    r.sequence = 123456789012ull + e;
    r.time_unix_us = 1700000000123456 + e;
    r.event = static_cast<Event>(e);
    r.non_disclosure = e % 2 == 0;
    r.outcome = std::string(kMaxOutcomeBytes, 'x');
    r.request_id = "要求-" + std::to_string(e);  // UTF-8 is fine
    Result<Record> decoded = DecodeLeaf(EncodeLeaf(r));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, r);
    EXPECT_EQ(RecordLeafHash(r), LeafHash(AsBytes(EncodeLeaf(r))));
  }
  Record a = testing::SampleRecord(1, 1), b = a;
  b.non_disclosure = !a.non_disclosure;
  EXPECT_NE(RecordLeafHash(a), RecordLeafHash(b));
}

TEST(RecordTest, DecodingRejectsMalformedLeaves) {
  std::string leaf = EncodeLeaf(testing::SampleRecord(1, 2));
  EXPECT_FALSE(DecodeLeaf(leaf.substr(0, leaf.size() - 1)).ok());
  EXPECT_FALSE(DecodeLeaf(leaf + "x").ok());
  std::string bad_event = leaf;
  bad_event[kLeafHeaderBytes] = 10;  // codes 1..9 are events (9: operator action)
  EXPECT_FALSE(DecodeLeaf(bad_event).ok());
  bad_event[kLeafHeaderBytes] = 0;
  EXPECT_FALSE(DecodeLeaf(bad_event).ok());
  std::string bad_format = leaf;
  bad_format[0] = 2;
  EXPECT_FALSE(DecodeLeaf(bad_format).ok());
  EXPECT_FALSE(DecodeLeaf("").ok());
}

TEST(RecordTest, ValidationRefusesBadFields) {
  Record r = testing::SampleRecord(1, 1);
  EXPECT_TRUE(ValidateRecord(r).ok());
  Record empty = r;
  empty.inquirer.clear();
  EXPECT_EQ(ValidateRecord(empty).code(), Status::Code::kInvalidArgument);
  Record long_code = r;
  long_code.item = std::string(kMaxCodeBytes + 1, 'A');
  Status s = ValidateRecord(long_code);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("item"), std::string::npos);
  Record control = r;
  control.outcome = "line\nbreak";
  EXPECT_FALSE(ValidateRecord(control).ok());
  Record invalid_utf8 = r;
  invalid_utf8.business = "\xC3\x28";
  EXPECT_FALSE(ValidateRecord(invalid_utf8).ok());
  Record overlong = r;
  overlong.provider = "\xC0\xAF";
  EXPECT_FALSE(ValidateRecord(overlong).ok());
  Record bad_event = r;
  bad_event.event = static_cast<Event>(42);
  EXPECT_FALSE(ValidateRecord(bad_event).ok());
  Record negative_time = r;
  negative_time.time_unix_us = -1;
  EXPECT_FALSE(ValidateRecord(negative_time).ok());
}

TEST(RecordTest, EventNamesRoundTrip) {
  for (int e = 0; e < 8; ++e) {
    const Event event = static_cast<Event>(e);
    std::optional<Event> parsed = ParseEvent(EventName(event));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, event);
  }
  EXPECT_STREQ(EventName(Event::kInquiryRefused), "inquiry_refused");
  EXPECT_STREQ(EventName(Event::kNotHeld), "not_held");
  EXPECT_FALSE(ParseEvent("nonsense").has_value());
}

}  // namespace
}  // namespace ipn::records
