// The text of Decision::Explain(), exactly: it is sent to the inquirer and kept in logs, so a
// change of wording is a visible change. One case per check that can fail, the allowed rows,
// the rate limit, no policy, and a hostile code echoed back.
#include <gtest/gtest.h>

#include "tests/policy/policy_test_util.h"

namespace ipn::policy {
namespace {

using testing::JstNoon;

class ExplanationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AgencyOverride suspended, retired, unassessed;
    suspended.status = AgencyStatus::kSuspended;
    retired.status = AgencyStatus::kRetired;
    unassessed.pia_approved = false;
    policy_ = testing::DemoPolicy({{"MUN-271004", suspended},
                                   {"EDU-401307", retired},
                                   {"PREF-130001", unassessed},
                                   {"MUN-401307", unassessed}});
    ASSERT_TRUE(policy_);
  }
  std::string Explain(const std::string& inquirer, const std::string& business,
                      const std::string& provider, const std::string& item,
                      const char* day = "2025-04-01") {
    return policy_->Check(inquirer, business, provider, item, JstNoon(day)).Explain();
  }
  std::shared_ptr<const Policy> policy_;
};

TEST_F(ExplanationTest, AllowedCitesTheRow) {
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-131016", "local-tax"),
            "permitted by links row 1: pension-service (class) may ask municipality (class) for "
            "item local-tax for business np-benefit, effective 2017-11-13 to open-ended (JST); "
            "legal basis: not recorded; policy version 1");
  EXPECT_EQ(Explain("MUN-131016", "nhi-benefit", "PEN-0001", "pension"),
            "permitted by links row 9: municipality (class) may ask pension-service (class) for "
            "item pension for business nhi-benefit, effective 2017-11-13 to open-ended (JST); "
            "legal basis: not recorded; policy version 1");
}

TEST_F(ExplanationTest, EachFailedCheck) {
  EXPECT_EQ(Explain("MUN-999999", "ltc-insurance", "PEN-0001", "pension"),
            "inquirer 'MUN-999999' is not in the agency directory; policy version 1");
  EXPECT_EQ(Explain("MUN-271004", "ltc-insurance", "PEN-0001", "pension"),
            "inquirer MUN-271004 is suspended; policy version 1");
  EXPECT_EQ(Explain("EDU-401307", "school-aid", "MUN-131016", "local-tax"),
            "inquirer EDU-401307 is retired; policy version 1");
  EXPECT_EQ(Explain("PREF-130001", "public-assistance", "MUN-131016", "local-tax"),
            "inquirer PREF-130001 has no approved privacy impact assessment; policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-000000", "local-tax"),
            "provider 'MUN-000000' is not in the agency directory; policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-271004", "local-tax"),
            "provider MUN-271004 is suspended; policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-401307", "local-tax"),
            "provider MUN-401307 has no approved privacy impact assessment; policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "no-such-business", "MUN-131016", "local-tax"),
            "business 'no-such-business' is not known; policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-131016", "no-such-item"),
            "item 'no-such-item' is not known; policy version 1");
  EXPECT_EQ(Explain("REG-0001", "np-benefit", "MUN-131016", "local-tax"),
            "agency REG-0001 is of class registry, which is not a party to permitted links; policy "
            "version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "PPC-0001", "local-tax"),
            "agency PPC-0001 is of class commission, which is not a party to permitted links; "
            "policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-131016", "pension"),
            "no permitted link lets PEN-0001 (pension-service) ask MUN-131016 (municipality) for "
            "item pension for business np-benefit; policy version 1");
  EXPECT_EQ(Explain("MUN-131016", "child-allowance", "PEN-0001", "pension"),
            "links row 34 (municipality may ask pension-service for item pension for business "
            "child-allowance) is not in effect on 2025-04-01 (JST): effective 2017-11-13 to "
            "2024-05-26 (JST); policy version 1");
}

TEST_F(ExplanationTest, HostileCodesAreEchoedSafelyAndBriefly) {
  const std::string hostile = "\x01\n'evil\x7f\xe3\x81\x82" + std::string(100, 'A');
  EXPECT_EQ(Explain(hostile, "np-benefit", "MUN-131016", "local-tax"),
            "inquirer '???evil????AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...' is not "
            "in the agency directory; policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-131016", std::string(64, 'i')),
            "item 'iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii' is not known; "
            "policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-131016", std::string(65, 'i')),
            "item 'iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii...' is not "
            "known; policy version 1");
  EXPECT_EQ(Explain("PEN-0001", "np-benefit", "MUN-131016", ""),
            "item '' is not known; policy version 1");
}

TEST(ExplanationRowTest, ASpecificRowWithALegalBasisAndAnEnd) {
  auto policy = testing::LoadPolicy(testing::DemoWith(
      "links.csv",
      "inquirer,business,provider,item,effective_from,effective_to,legal_basis\n"
      "MUN-131016,nhi-benefit,PEN-0001,pension,2017-11-13,2030-03-31,Act art. 9\n"));
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->Check("MUN-131016", "nhi-benefit", "PEN-0001", "pension", JstNoon("2025-04-01"))
                .Explain(),
            "permitted by links row 1: MUN-131016 may ask PEN-0001 for item pension for business "
            "nhi-benefit, effective 2017-11-13 to 2030-03-31 (JST); legal basis: Act art. 9; "
            "policy version 1");
  EXPECT_EQ(
      policy->Check("MUN-131016", "nhi-benefit", "PEN-0001", "pension", JstNoon("2030-04-01"))
          .Explain(),
      "links row 1 (MUN-131016 may ask PEN-0001 for item pension for business nhi-benefit) is not "
      "in effect on 2030-04-01 (JST): effective 2017-11-13 to 2030-03-31 (JST); policy version 1");
}

TEST(ExplanationStoreTest, RateLimitAndNoPolicy) {
  AdminKeyPair admin = GenerateAdminKeyPair();
  PolicyStore store(admin.public_key);
  const int64_t at = JstNoon("2025-04-01");
  EXPECT_EQ(
      store.CheckAndCharge("MUN-131016", "ltc-insurance", "PEN-0001", "pension", at).Explain(),
      "no policy bundle is loaded");
  AgencyOverride limited;
  limited.rate_per_second = 1.5;
  limited.burst = 1;
  ASSERT_TRUE(store.Load(testing::DemoBundle(admin, 3, {{"MUN-131016", limited}})).ok());
  EXPECT_TRUE(
      store.CheckAndCharge("MUN-131016", "ltc-insurance", "PEN-0001", "pension", at).allowed);
  const Decision limited_decision =
      store.CheckAndCharge("MUN-131016", "ltc-insurance", "PEN-0001", "pension", at);
  EXPECT_EQ(limited_decision.Explain(),
            "inquirer MUN-131016 is over its rate limit (1 per second, burst 1); policy version 3");
}

}  // namespace
}  // namespace ipn::policy
