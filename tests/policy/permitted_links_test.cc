// Decisions: every deny reason, effective dates at their JST edges, and class rules versus
// specific-agency rules.
#include <gtest/gtest.h>

#include "ipn/v1/wire.pb.h"
#include "tests/policy/policy_test_util.h"

namespace ipn::policy {
namespace {

using testing::Contains;
using testing::Jst;
using testing::JstNoon;

constexpr int64_t kSecond = 1'000'000;

TEST(PermittedLinksTest, DenyReasonsMatchTheWireEnum) {
  const std::pair<DenyReason, ipn::v1::DenyReason> pairs[] = {
      {DenyReason::kNone, ipn::v1::DENY_REASON_NONE},
      {DenyReason::kUnknownInquirer, ipn::v1::DENY_REASON_UNKNOWN_INQUIRER},
      {DenyReason::kUnknownProvider, ipn::v1::DENY_REASON_UNKNOWN_PROVIDER},
      {DenyReason::kInquirerNotActive, ipn::v1::DENY_REASON_INQUIRER_NOT_ACTIVE},
      {DenyReason::kProviderNotActive, ipn::v1::DENY_REASON_PROVIDER_NOT_ACTIVE},
      {DenyReason::kNoAssessment, ipn::v1::DENY_REASON_NO_ASSESSMENT},
      {DenyReason::kNoSuchLink, ipn::v1::DENY_REASON_NO_SUCH_LINK},
      {DenyReason::kOutsideEffectivePeriod, ipn::v1::DENY_REASON_OUTSIDE_EFFECTIVE_PERIOD},
      {DenyReason::kRateLimited, ipn::v1::DENY_REASON_RATE_LIMITED},
      {DenyReason::kUnknownItem, ipn::v1::DENY_REASON_UNKNOWN_ITEM},
      {DenyReason::kUnknownBusiness, ipn::v1::DENY_REASON_UNKNOWN_BUSINESS},
  };
  for (const auto& [ours, wire] : pairs) {
    EXPECT_EQ(static_cast<int>(ours), static_cast<int>(wire));
    EXPECT_EQ(std::string("DENY_REASON_") + DenyReasonName(ours), ipn::v1::DenyReason_Name(wire));
  }
}

TEST(PermittedLinksTest, EveryDenyReasonFromCheck) {
  AgencyOverride suspended, retired, unassessed;
  suspended.status = AgencyStatus::kSuspended;
  retired.status = AgencyStatus::kRetired;
  unassessed.pia_approved = false;
  auto policy = testing::DemoPolicy({{"MUN-271004", suspended},
                                     {"EDU-401307", retired},
                                     {"PREF-130001", unassessed},
                                     {"MUN-401307", unassessed}});
  ASSERT_TRUE(policy);
  const int64_t at = JstNoon("2025-04-01");
  struct Case {
    const char *inquirer, *business, *provider, *item;
    DenyReason reason;
    const char* words;
  } cases[] = {
      {"PEN-0001", "np-benefit", "MUN-131016", "local-tax", DenyReason::kNone,
       "permitted by links row 1: pension-service (class) may ask municipality (class)"},
      {"MUN-999999", "ltc-insurance", "PEN-0001", "pension", DenyReason::kUnknownInquirer,
       "inquirer 'MUN-999999' is not in the agency directory"},
      {"MUN-271004", "ltc-insurance", "PEN-0001", "pension", DenyReason::kInquirerNotActive,
       "inquirer MUN-271004 is suspended"},
      {"EDU-401307", "school-aid", "MUN-131016", "local-tax", DenyReason::kInquirerNotActive,
       "inquirer EDU-401307 is retired"},
      {"PREF-130001", "public-assistance", "MUN-131016", "local-tax", DenyReason::kNoAssessment,
       "inquirer PREF-130001 has no approved privacy impact assessment"},
      {"PEN-0001", "np-benefit", "MUN-000000", "local-tax", DenyReason::kUnknownProvider,
       "provider 'MUN-000000' is not in the agency directory"},
      {"PEN-0001", "np-benefit", "MUN-271004", "local-tax", DenyReason::kProviderNotActive,
       "provider MUN-271004 is suspended"},
      {"PEN-0001", "np-benefit", "MUN-401307", "local-tax", DenyReason::kNoAssessment,
       "provider MUN-401307 has no approved privacy impact assessment"},
      {"PEN-0001", "no-such-business", "MUN-131016", "local-tax", DenyReason::kUnknownBusiness,
       "business 'no-such-business' is not known"},
      {"PEN-0001", "np-benefit", "MUN-131016", "no-such-item", DenyReason::kUnknownItem,
       "item 'no-such-item' is not known"},
      {"PEN-0001", "np-benefit", "MUN-131016", "pension", DenyReason::kNoSuchLink,
       "no permitted link lets PEN-0001 (pension-service) ask MUN-131016 (municipality) for "
       "item pension for business np-benefit"},
      {"MUN-131016", "child-allowance", "PEN-0001", "pension", DenyReason::kOutsideEffectivePeriod,
       "links row 34 (municipality may ask pension-service for item pension for business "
       "child-allowance) is not in effect on 2025-04-01 (JST): effective 2017-11-13 to "
       "2024-05-26 (JST)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(DenyReasonName(c.reason));
    Decision d = policy->Check(c.inquirer, c.business, c.provider, c.item, at);
    EXPECT_EQ(d.allowed, c.reason == DenyReason::kNone);
    EXPECT_EQ(d.reason, c.reason);
    EXPECT_TRUE(Contains(d.Explain(), c.words)) << d.Explain();
    EXPECT_TRUE(Contains(d.Explain(), "policy version 1")) << d.Explain();
    EXPECT_EQ(d.policy_version, 1u);
    const int expected_row = c.reason == DenyReason::kNone                     ? 1
                             : c.reason == DenyReason::kOutsideEffectivePeriod ? 34
                                                                               : -1;
    EXPECT_EQ(d.row, expected_row);
  }
}

TEST(PermittedLinksTest, RegistryPortalAndCommissionAreNotParties) {
  auto policy = testing::DemoPolicy();
  ASSERT_TRUE(policy);
  const int64_t at = JstNoon("2025-04-01");
  for (const char* outsider : {"REG-0001", "PORTAL-0001", "PPC-0001"}) {
    Decision asks = policy->Check(outsider, "np-benefit", "MUN-131016", "local-tax", at);
    EXPECT_EQ(asks.reason, DenyReason::kNoSuchLink) << outsider;
    EXPECT_TRUE(Contains(asks.Explain(), "which is not a party to permitted links"))
        << asks.Explain();
    Decision asked = policy->Check("PEN-0001", "np-benefit", outsider, "local-tax", at);
    EXPECT_EQ(asked.reason, DenyReason::kNoSuchLink) << outsider;
  }
}

TEST(PermittedLinksTest, EffectivePeriodEndsAt2400JstOfItsLastDay) {
  auto policy = testing::DemoPolicy();
  ASSERT_TRUE(policy);
  // Row 34: municipality -> pension-service, child-allowance / pension, 2017-11-13..2024-05-26.
  auto check = [&](int64_t at) {
    return policy->Check("MUN-131016", "child-allowance", "PEN-0001", "pension", at);
  };
  EXPECT_TRUE(check(Jst("2024-05-27") - 1).allowed);  // 2024-05-26 23:59:59.999999 JST
  Decision after = check(Jst("2024-05-27"));          // 2024-05-27 00:00 JST
  EXPECT_EQ(after.reason, DenyReason::kOutsideEffectivePeriod);
  EXPECT_EQ(after.row, 34);
  // 2024-05-26 16:00 UTC is already the 27th in Japan.
  EXPECT_FALSE(check(Jst("2024-05-26", 25LL * 3600 * kSecond)).allowed);
  // The first day counts from 00:00 JST.
  EXPECT_FALSE(check(Jst("2017-11-13") - 1).allowed);
  Decision first = check(Jst("2017-11-13"));
  EXPECT_TRUE(first.allowed) << first.Explain();
  EXPECT_EQ(first.row, 34);
}

TEST(PermittedLinksTest, FutureRowStartsAtMidnightJst) {
  auto policy = testing::DemoPolicy();
  ASSERT_TRUE(policy);
  // Row 33: municipality -> wide-area-union, ltc-insurance / medical-insurance, from 2027-04-01.
  auto check = [&](int64_t at) {
    return policy->Check("MUN-401307", "ltc-insurance", "UNION-400009", "medical-insurance", at);
  };
  Decision before = check(Jst("2027-04-01") - 1);
  EXPECT_EQ(before.reason, DenyReason::kOutsideEffectivePeriod);
  EXPECT_TRUE(Contains(before.Explain(), "not in effect on 2027-03-31 (JST)")) << before.Explain();
  Decision on = check(Jst("2027-04-01"));  // 2027-03-31 15:00 UTC
  EXPECT_TRUE(on.allowed) << on.Explain();
  EXPECT_EQ(on.row, 33);
  EXPECT_TRUE(check(Jst("2099-12-31")).allowed);  // open-ended
}

// Class rows versus specific-agency rows, and which row a decision cites.
class PermittedLinksClassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_ = testing::LoadPolicy(testing::DemoWith(
        "links.csv",
        "inquirer,business,provider,item,effective_from,effective_to,legal_basis\n"
        "municipality,nhi-benefit,pension-service,pension,2017-11-13,,class row\n"
        "MUN-131016,nhi-benefit,PEN-0001,pension,2017-11-13,,specific row\n"
        "MUN-131016,child-allowance,PEN-0001,pension,2017-11-13,,specific only\n"
        "MUN-131016,public-assistance,municipality,local-tax,2017-11-13,,specific to class\n"
        "prefecture,public-assistance,MUN-131016,local-tax,2017-11-13,,class to specific\n"
        "MUN-271004,ltc-insurance,pension-service,pension,2017-11-13,2020-12-31,expired\n"
        "municipality,ltc-insurance,pension-service,pension,2021-01-01,,newer class row\n"));
    ASSERT_TRUE(policy_);
  }
  Decision Ask(const char* inquirer, const char* business, const char* provider, const char* item,
               const char* day = "2025-04-01") {
    return policy_->Check(inquirer, business, provider, item, JstNoon(day));
  }
  std::shared_ptr<const Policy> policy_;
};

TEST_F(PermittedLinksClassTest, ASpecificRowIsPreferredToAClassRow) {
  Decision d = Ask("MUN-131016", "nhi-benefit", "PEN-0001", "pension");
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.row, 2);
  EXPECT_TRUE(Contains(d.Explain(), "MUN-131016 may ask PEN-0001")) << d.Explain();
  EXPECT_TRUE(Contains(d.Explain(), "legal basis: specific row")) << d.Explain();
  Decision classmate = Ask("MUN-271004", "nhi-benefit", "PEN-0001", "pension");
  ASSERT_TRUE(classmate.allowed);
  EXPECT_EQ(classmate.row, 1);
  EXPECT_TRUE(Contains(classmate.Explain(),
                       "municipality (class) may ask pension-service "
                       "(class)"))
      << classmate.Explain();
}

TEST_F(PermittedLinksClassTest, ASpecificRowDoesNotExtendToTheClass) {
  EXPECT_EQ(Ask("MUN-131016", "child-allowance", "PEN-0001", "pension").row, 3);
  EXPECT_EQ(Ask("MUN-271004", "child-allowance", "PEN-0001", "pension").reason,
            DenyReason::kNoSuchLink);
  // Direction matters: the provider may not ask the inquirer back.
  EXPECT_EQ(Ask("PEN-0001", "child-allowance", "MUN-131016", "pension").reason,
            DenyReason::kNoSuchLink);
}

TEST_F(PermittedLinksClassTest, MixedSpecificAndClassRows) {
  EXPECT_EQ(Ask("MUN-131016", "public-assistance", "MUN-401307", "local-tax").row, 4);
  EXPECT_EQ(Ask("MUN-131016", "public-assistance", "MUN-131016", "local-tax").row, 4);
  EXPECT_EQ(Ask("MUN-271004", "public-assistance", "MUN-401307", "local-tax").reason,
            DenyReason::kNoSuchLink);
  EXPECT_EQ(Ask("PREF-130001", "public-assistance", "MUN-131016", "local-tax").row, 5);
  EXPECT_EQ(Ask("PREF-400009", "public-assistance", "MUN-131016", "local-tax").row, 5);
  EXPECT_EQ(Ask("PREF-130001", "public-assistance", "MUN-271004", "local-tax").reason,
            DenyReason::kNoSuchLink);
}

TEST_F(PermittedLinksClassTest, AnExpiredSpecificRowFallsBackToAnEffectiveClassRow) {
  EXPECT_EQ(Ask("MUN-271004", "ltc-insurance", "PEN-0001", "pension", "2019-06-01").row, 6);
  EXPECT_EQ(Ask("MUN-271004", "ltc-insurance", "PEN-0001", "pension", "2022-06-01").row, 7);
  Decision gap = Ask("MUN-131016", "ltc-insurance", "PEN-0001", "pension", "2019-06-01");
  EXPECT_EQ(gap.reason, DenyReason::kOutsideEffectivePeriod);
  EXPECT_EQ(gap.row, 7);
}

TEST(PermittedLinksTest, HostileCodesAreEchoedSafelyAndBriefly) {
  auto policy = testing::DemoPolicy();
  ASSERT_TRUE(policy);
  const std::string hostile = "\x01\n'evil\x7f" + std::string(500, 'A');
  for (int field = 0; field < 4; ++field) {
    std::string codes[4] = {"PEN-0001", "np-benefit", "MUN-131016", "local-tax"};
    codes[field] = hostile;
    Decision d = policy->Check(codes[0], codes[1], codes[2], codes[3], JstNoon("2025-04-01"));
    EXPECT_FALSE(d.allowed);
    EXPECT_LT(d.Explain().size(), 200u) << d.Explain();
    for (char c : d.Explain()) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << d.Explain();
  }
}

}  // namespace
}  // namespace ipn::policy
