// ProtobufLog: an agency can make libprotobuf complain as often as it sends; what reaches
// stderr is held to one line per interval, with the count.
#include "common/protobuf_log.h"

#include <gtest/gtest.h>

#include "ipn/v1/wire.pb.h"

namespace ipn {
namespace {

TEST(ProtobufLog, ParsingInvalidUtf8AThousandTimesPrintsAtMostOneLine) {
  LimitProtobufLog();
  v1::Envelope e;
  e.set_request_id("placeholder");
  std::string bytes = e.SerializeAsString();
  const size_t at = bytes.find("placeholder");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = '\xff';  // a string field that is not UTF-8: libprotobuf logs an ERROR
  const uint64_t lines_before = ProtobufLogLines();
  const uint64_t printed_before = ProtobufLogPrinted();
  for (int i = 0; i < 1000; ++i) {
    v1::Envelope parsed;
    EXPECT_FALSE(parsed.ParseFromString(bytes));  // refused all the same
  }
  EXPECT_EQ(ProtobufLogLines() - lines_before, 1000u);
  EXPECT_LE(ProtobufLogPrinted() - printed_before, 1u);
}

}  // namespace
}  // namespace ipn
