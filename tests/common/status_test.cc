#include "common/status.h"

#include <gtest/gtest.h>

namespace ipn {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::InvalidArgument("resident code must be 11 digits");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "InvalidArgument: resident code must be 11 digits");
  EXPECT_EQ(s.WithContext("line 3").message(), "line 3: resident code must be 11 digits");
}

Status FailsThenNeverReaches(bool* reached) {
  IPN_RETURN_IF_ERROR(Status::NotFound("x"));
  *reached = true;
  return Status::Ok();
}

TEST(StatusTest, ReturnIfErrorReturnsEarly) {
  bool reached = false;
  EXPECT_EQ(FailsThenNeverReaches(&reached).code(), Status::Code::kNotFound);
  EXPECT_FALSE(reached);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = Status::Corruption("bad tag");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace ipn
