// JsonFields: only JSON integers that fit are read; a float, a string or an out-of-range
// number is nlohmann's type_error (no undefined float-to-integer cast).
#include "common/json_fields.h"

#include <gtest/gtest.h>

namespace ipn {
namespace {

TEST(JsonFields, ReadsIntegersThatFit) {
  EXPECT_EQ(JsonInt64(nlohmann::json::parse("-42")), -42);
  EXPECT_EQ(JsonInt64(nlohmann::json::parse("9223372036854775807")), INT64_MAX);
  EXPECT_EQ(JsonUint64(nlohmann::json::parse("18446744073709551615")), UINT64_MAX);
}

TEST(JsonFields, RefusesFloatsStringsAndWhatDoesNotFit) {
  // 1.79603e+30 is the value fuzz/pulled_set_fuzzer found cast to int64_t.
  for (const char* bad : {"1.79603e+30", "1.0", "\"7\"", "null", "9223372036854775808"}) {
    EXPECT_THROW(JsonInt64(nlohmann::json::parse(bad)), nlohmann::json::type_error) << bad;
  }
  for (const char* bad : {"-1", "2.5", "true"}) {
    EXPECT_THROW(JsonUint64(nlohmann::json::parse(bad)), nlohmann::json::type_error) << bad;
  }
}

}  // namespace
}  // namespace ipn
