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

TEST(TwoPersonReplicaSetTest, TheFileNamesEachSiteOnceSorted) {
  const std::string text = FormatReplicaSet({"west", "east", "witness", "east"});
  EXPECT_EQ(text, "ipn-replica-set/1\nsite east\nsite west\nsite witness\n");
  Result<std::vector<std::string>> sites = ParseReplicaSet(text);
  ASSERT_TRUE(sites.ok()) << sites.status().ToString();
  EXPECT_EQ(*sites, (std::vector<std::string>{"east", "west", "witness"}));
  for (const std::string& bad :
       {std::string(""), std::string("ipn-replica-set/1\n"),
        std::string("ipn-replica-set/1\nsite west\nsite east\n"),
        std::string("ipn-replica-set/1\nsite east\nsite east\n"),
        std::string("ipn-replica-set/1\nsite East\n"), std::string("ipn-replica-set/1\nsite east"),
        std::string("ipn-replica-set/1\nnode east\n"),
        std::string("ipn-replica-set/2\nsite a\n")}) {
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

TEST_F(TwoPersonStartConfigTest, AChangedReplicaSetTakesTwoCustodians) {
  const std::string two = FormatReplicaSet({"east", "west"}), one = FormatReplicaSet({"east"});
  // The first start installs what it is given; the same set again changes nothing.
  Result<StartChange> first = Check(two, "", &roster_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->changed);
  ASSERT_TRUE(KeepStartConfig(dir_.Sub("kept"), two).ok());
  EXPECT_FALSE(Check(two, "", &roster_)->changed);

  // A site removed: one custodian, a custodian twice, a policy officer, or none — refused.
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
