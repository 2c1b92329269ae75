// A decision allocates nothing: Policy::Check and, once an agency's token bucket exists,
// PolicyStore::CheckAndCharge, for every outcome. Counted by the replaced operator new that
// this test binary links (tests/support/allocation_counter.cc).
#include <gtest/gtest.h>

#include "tests/policy/policy_test_util.h"
#include "tests/support/allocation_counter.h"

namespace ipn::policy {
namespace {

using ipn::testing::AllocationCounter;
using testing::JstNoon;

struct Query {
  std::string inquirer, business, provider, item;
  DenyReason reason;
};

// One query per outcome the demo policy (with the overrides below) can give.
std::vector<Query> EveryOutcome() {
  return {
      {"PEN-0001", "np-benefit", "MUN-131016", "local-tax", DenyReason::kNone},
      {"MUN-999999", "ltc-insurance", "PEN-0001", "pension", DenyReason::kUnknownInquirer},
      {std::string(300, 'X'), "ltc-insurance", "PEN-0001", "pension", DenyReason::kUnknownInquirer},
      {"MUN-271004", "ltc-insurance", "PEN-0001", "pension", DenyReason::kInquirerNotActive},
      {"PREF-130001", "public-assistance", "MUN-131016", "local-tax", DenyReason::kNoAssessment},
      {"PEN-0001", "np-benefit", "MUN-000000", "local-tax", DenyReason::kUnknownProvider},
      {"PEN-0001", "np-benefit", "MUN-271004", "local-tax", DenyReason::kProviderNotActive},
      {"PEN-0001", "np-benefit", "MUN-401307", "local-tax", DenyReason::kNoAssessment},
      {"PEN-0001", "no-such-business", "MUN-131016", "local-tax", DenyReason::kUnknownBusiness},
      {"PEN-0001", "np-benefit", "MUN-131016", "no-such-item", DenyReason::kUnknownItem},
      {"REG-0001", "np-benefit", "MUN-131016", "local-tax", DenyReason::kNoSuchLink},
      {"PEN-0001", "np-benefit", "MUN-131016", "pension", DenyReason::kNoSuchLink},
      {"MUN-131016", "child-allowance", "PEN-0001", "pension", DenyReason::kOutsideEffectivePeriod},
  };
}

std::map<std::string, AgencyOverride> Overrides() {
  AgencyOverride suspended, unassessed, limited;
  suspended.status = AgencyStatus::kSuspended;
  unassessed.pia_approved = false;
  limited.rate_per_second = 1;
  limited.burst = 1;
  return {{"MUN-271004", suspended},
          {"PREF-130001", unassessed},
          {"MUN-401307", unassessed},
          {"MUN-131016", limited}};
}

TEST(DecisionAllocationTest, CheckAllocatesNothingForAnyOutcome) {
  auto policy = testing::DemoPolicy(Overrides());
  ASSERT_TRUE(policy);
  const int64_t at = JstNoon("2025-04-01");
  for (const Query& q : EveryOutcome()) {
    SCOPED_TRACE(q.inquirer.substr(0, 20) + " " + q.item);
    AllocationCounter counter;
    {
      const Decision d = policy->Check(q.inquirer, q.business, q.provider, q.item, at);
      const Decision copy = d;  // copying and destroying a Decision allocates nothing either
      EXPECT_EQ(copy.reason, q.reason);
    }
    EXPECT_EQ(counter.count(), 0u);
  }
}

TEST(DecisionAllocationTest, CheckAndChargeAllocatesNothingOnceTheBucketExists) {
  AdminKeyPair admin = GenerateAdminKeyPair();
  PolicyStore store(admin.public_key);
  ASSERT_TRUE(store.Load(testing::DemoBundle(admin, 1, Overrides())).ok());
  const int64_t at = JstNoon("2025-04-01");
  const std::vector<Query> queries = EveryOutcome();
  // The first inquiry of each inquirer creates its token bucket (once per agency, not per
  // decision).
  for (const Query& q : queries)
    (void)store.CheckAndCharge(q.inquirer, q.business, q.provider, q.item, at);
  for (int round = 0; round < 3; ++round) {
    for (const Query& q : queries) {
      SCOPED_TRACE(q.inquirer.substr(0, 20) + " " + q.item);
      AllocationCounter counter;
      const Decision d = store.CheckAndCharge(q.inquirer, q.business, q.provider, q.item, at);
      // MUN-131016's bucket (burst 1) is empty by now: its allowed inquiries are rate limited.
      EXPECT_TRUE(d.reason == q.reason || d.reason == DenyReason::kRateLimited);
      EXPECT_EQ(counter.count(), 0u);
    }
  }
}

TEST(DecisionAllocationTest, TheCounterSeesExplainAllocate) {
  auto policy = testing::DemoPolicy();
  ASSERT_TRUE(policy);
  const Decision d =
      policy->Check("PEN-0001", "np-benefit", "MUN-131016", "local-tax", JstNoon("2025-04-01"));
  AllocationCounter counter;
  EXPECT_FALSE(d.Explain().empty());
  EXPECT_GT(counter.count(), 0u);  // the text is built here, on demand
}

}  // namespace
}  // namespace ipn::policy
