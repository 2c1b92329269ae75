// The configuration a core starts with under the two-person rule, without a core: the
// replica set file's form, and the check that a bundle or replica set changed since the
// last start carries the approvals the roster requires — two distinct operators of the
// right role — while the first start installs what it is given.
#include "policy/start_config.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/encoding.h"
#include "common/file_util.h"
#include "tests/policy/operator_keys.h"
#include "tests/support/temp_dir.h"

namespace ipn::policy {
namespace {

using Custodian = OperatorKey;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(TwoPersonReplicaSetTest, TheFileNamesAVersionAndEachSiteOnceSorted) {
  const std::string text = FormatReplicaSet({3, {"west", "east", "witness", "east"}});
  EXPECT_EQ(text, "ipn-replica-set/1\nversion 3\nsite east\nsite west\nsite witness\n");
  Result<ReplicaSet> set = ParseReplicaSet(text);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->version, 3u);
  EXPECT_EQ(set->sites, (std::vector<std::string>{"east", "west", "witness"}));
  const std::string v = "ipn-replica-set/1\nversion 1\n";
  for (const std::string& bad : std::vector<std::string>{
           "", v, "ipn-replica-set/1\nsite east\n", v + "site west\nsite east\n",
           v + "site east\nsite east\n", v + "site East\n", v + "site east", v + "node east\n",
           "ipn-replica-set/1\nversion 0\nsite a\n", "ipn-replica-set/1\nversion 01\nsite a\n",
           "ipn-replica-set/2\nversion 1\nsite a\n"}) {
    EXPECT_EQ(ParseReplicaSet(bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

class TwoPersonStartConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<OperatorRoster> r = ParseOperatorRoster(
        "operator kim key_custodian " + HexEncode(kim_.pk) + "\noperator lee key_custodian " +
        HexEncode(lee_.pk) + "\noperator alice policy_officer " + HexEncode(alice_.pk) +
        "\nrequire replica_change 2 key_custodian\n");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    roster_ = *r;
  }
  std::string Approve(const Custodian& c, const std::string& text) {
    return ApprovalLine(kReplicaChangeAction, Bytes(text), c.id, c.sk).value();
  }
  Result<StartChange> Check(const std::string& text, const std::string& approvals,
                            const OperatorRoster* roster) {
    EXPECT_TRUE(WriteFileAtomic(dir_.Sub("set.approvals"), approvals).ok());
    return CheckStartConfig(roster, kReplicaChangeAction, Bytes(text), dir_.Sub("set.approvals"),
                            dir_.Sub("kept"), text);
  }

  ipn::testing::TempDir dir_;
  Custodian kim_{"kim"}, lee_{"lee"}, alice_{"alice"};
  OperatorRoster roster_;
};

TEST_F(TwoPersonStartConfigTest, EveryReplicaSetAStartTakesNeedsTwoCustodians) {
  const std::string two = FormatReplicaSet({1, {"east", "west"}});
  const std::string one = FormatReplicaSet({2, {"east"}});
  // Even the first start needs the approvals; without a kept set it is a change.
  EXPECT_EQ(Check(two, "", &roster_).status().code(), Status::Code::kPermissionDenied);
  Result<StartChange> first = Check(two, Approve(kim_, two) + Approve(lee_, two), &roster_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->changed);
  EXPECT_EQ(first->previous, "");
  ASSERT_TRUE(KeepStartConfig(dir_.Sub("kept"), two).ok());
  // The same set again: unchanged, but still only with its approvals.
  EXPECT_EQ(Check(two, "", &roster_).status().code(), Status::Code::kPermissionDenied);
  EXPECT_FALSE(Check(two, Approve(kim_, two) + Approve(lee_, two), &roster_)->changed);

  // A site removed: one custodian, a custodian twice, a policy officer, approvals of the
  // old set, or none — refused.
  for (const std::string& approvals :
       {std::string(), Approve(kim_, one), Approve(kim_, one) + Approve(kim_, one),
        Approve(kim_, one) + Approve(alice_, one), Approve(kim_, two) + Approve(lee_, two)}) {
    EXPECT_EQ(Check(one, approvals, &roster_).status().code(), Status::Code::kPermissionDenied)
        << approvals;
  }
  Result<StartChange> ok = Check(one, Approve(kim_, one) + Approve(lee_, one), &roster_);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->changed);
  EXPECT_EQ(ok->previous, two);
  EXPECT_EQ(ok->actor, "kim+lee");
  // Without a rule for the action the change is the operator's alone.
  Result<StartChange> no_rule = Check(one, "", nullptr);
  ASSERT_TRUE(no_rule.ok());
  EXPECT_EQ(no_rule->actor, "operator");
}

}  // namespace
}  // namespace ipn::policy
