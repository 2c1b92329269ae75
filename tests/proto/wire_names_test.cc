// Tests of ipn/v1/wire_names: every enum value's name without its prefix, exactly, and
// views into the descriptors rather than fresh strings.
#include "ipn/v1/wire_names.h"

#include <gtest/gtest.h>

namespace ipn::v1 {
namespace {

TEST(WireNamesTest, OutcomeNames) {
  EXPECT_EQ(OutcomeName(OUTCOME_UNSPECIFIED), "UNSPECIFIED");
  EXPECT_EQ(OutcomeName(OUTCOME_PROVIDED), "PROVIDED");
  EXPECT_EQ(OutcomeName(OUTCOME_NOT_HELD), "NOT_HELD");
  EXPECT_EQ(OutcomeName(OUTCOME_FAILED), "FAILED");
  EXPECT_EQ(OutcomeName(OUTCOME_TIMED_OUT), "TIMED_OUT");
  EXPECT_EQ(OutcomeName(OUTCOME_REFUSED), "REFUSED");
  EXPECT_EQ(OutcomeName(OUTCOME_UNREACHABLE), "UNREACHABLE");
}

TEST(WireNamesTest, DenyReasonNames) {
  EXPECT_EQ(DenyReasonName(DENY_REASON_NONE), "NONE");
  EXPECT_EQ(DenyReasonName(DENY_REASON_NO_SUCH_LINK), "NO_SUCH_LINK");
  EXPECT_EQ(DenyReasonName(DENY_REASON_NOT_ISSUED_TO_PROVIDER), "NOT_ISSUED_TO_PROVIDER");
  EXPECT_EQ(DenyReasonName(DENY_REASON_OUTSIDE_EFFECTIVE_PERIOD), "OUTSIDE_EFFECTIVE_PERIOD");
  EXPECT_EQ(DenyReasonName(DENY_REASON_UNKNOWN_BUSINESS), "UNKNOWN_BUSINESS");
}

TEST(WireNamesTest, ErrorCodeNames) {
  EXPECT_EQ(ErrorCodeName(ERROR_CODE_NONE), "NONE");
  EXPECT_EQ(ErrorCodeName(ERROR_CODE_MALFORMED), "MALFORMED");
  EXPECT_EQ(ErrorCodeName(ERROR_CODE_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
}

// Every named value of each enum strips to the descriptor's name minus the prefix.
TEST(WireNamesTest, EveryValueMatchesTheDescriptor) {
  const auto check = [](const google::protobuf::EnumDescriptor* d, std::string_view prefix,
                        auto name_of) {
    for (int i = 0; i < d->value_count(); ++i) {
      const google::protobuf::EnumValueDescriptor* v = d->value(i);
      ASSERT_EQ(v->name().substr(0, prefix.size()), prefix) << v->name();
      EXPECT_EQ(name_of(v->number()), v->name().substr(prefix.size())) << v->name();
    }
  };
  check(Outcome_descriptor(), "OUTCOME_",
        [](int n) { return OutcomeName(static_cast<Outcome>(n)); });
  check(DenyReason_descriptor(), "DENY_REASON_",
        [](int n) { return DenyReasonName(static_cast<DenyReason>(n)); });
  check(ErrorCode_descriptor(), "ERROR_CODE_",
        [](int n) { return ErrorCodeName(static_cast<ErrorCode>(n)); });
}

TEST(WireNamesTest, ViewsPointIntoTheDescriptorNotACopy) {
  const std::string_view a = OutcomeName(OUTCOME_NOT_HELD);
  const std::string_view b = OutcomeName(OUTCOME_NOT_HELD);
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(a.data(), Outcome_Name(OUTCOME_NOT_HELD).data() + 8);
}

TEST(WireNamesTest, UnnamedValuesAreEmpty) {
  EXPECT_EQ(OutcomeName(static_cast<Outcome>(99)), "");
  EXPECT_EQ(DenyReasonName(static_cast<DenyReason>(99)), "");
  EXPECT_EQ(ErrorCodeName(static_cast<ErrorCode>(99)), "");
}

}  // namespace
}  // namespace ipn::v1
