// The two-person rule without a core: the operator roster (its errors by line), and the
// approvals a sensitive action needs — one refused, two distinct operators of the right
// role accepted, the same operator twice, a wrong role, someone off the roster and a
// signature over other bytes each refused with what is wrong.
#include "policy/two_person.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/encoding.h"

namespace ipn::policy {
namespace {

struct Op {
  std::string id;
  std::array<uint8_t, 32> pk{};
  std::array<uint8_t, 64> sk{};
  explicit Op(std::string name) : id(std::move(name)) { crypto_sign_keypair(pk.data(), sk.data()); }
};

class TwoPersonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string text =
        "# the roster\n"
        "operator alice policy_officer " +
        HexEncode(alice_.pk) +
        "\n"
        "operator bob policy_officer " +
        HexEncode(bob_.pk) +
        "  # deputy\n"
        "operator carol auditor " +
        HexEncode(carol_.pk) +
        "\n"
        "require policy_load 2 policy_officer\n";
    Result<OperatorRoster> r = ParseOperatorRoster(text);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    roster_ = *r;
  }
  std::string Approve(const Op& op, const std::string& subject,
                      const std::string& action = "policy_load") {
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(subject.data()),
                                         subject.size());
    return ApprovalLine(action, bytes, op.id, op.sk).value();
  }
  Result<std::vector<std::string>> Check(const std::string& subject, const std::string& approvals) {
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(subject.data()),
                                         subject.size());
    return CheckApprovals(roster_, "policy_load", bytes, approvals);
  }

  Op alice_{"alice"}, bob_{"bob"}, carol_{"carol"}, mallory_{"mallory"};
  OperatorRoster roster_;
  const std::string bundle_ = "the signed bundle's bytes";
};

TEST_F(TwoPersonTest, TwoDistinctOperatorsOfTheRoleTakeEffect) {
  Result<std::vector<std::string>> ok =
      Check(bundle_, Approve(alice_, bundle_) + Approve(bob_, bundle_));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(NamedApprovers(Approve(alice_, bundle_) + Approve(bob_, bundle_)),
            (std::vector<std::string>{"alice", "bob"}));
}

TEST_F(TwoPersonTest, OneSignatureAloneIsRefused) {
  Result<std::vector<std::string>> one = Check(bundle_, Approve(alice_, bundle_));
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(one.status().message(),
            "policy_load needs 2 approvals by distinct policy_officer operators; it has 1 (alice)");
  EXPECT_FALSE(Check(bundle_, "").ok());
}

TEST_F(TwoPersonTest, SelfApprovalWrongRoleStrangerAndOtherBytesAreRefused) {
  const std::pair<std::string, std::string> cases[] = {
      {Approve(alice_, bundle_) + Approve(alice_, bundle_),
       "alice approved twice: no operator approves their own request"},
      {Approve(alice_, bundle_) + Approve(carol_, bundle_),
       "carol holds the role auditor; policy_load needs policy_officer"},
      {Approve(alice_, bundle_) + Approve(mallory_, bundle_),
       "mallory is not on the operator roster"},
      {Approve(alice_, bundle_) + Approve(bob_, "another bundle"),
       "bob's signature is not over this policy_load"},
      {Approve(alice_, bundle_) + Approve(bob_, bundle_, "key_rotate"),
       "bob's signature is not over this policy_load"},
  };
  for (const auto& [approvals, expected] : cases) {
    Result<std::vector<std::string>> r = Check(bundle_, approvals);
    ASSERT_FALSE(r.ok()) << expected;
    EXPECT_EQ(r.status().code(), Status::Code::kPermissionDenied);
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  }
}

TEST_F(TwoPersonTest, AnActionWithoutARuleNeedsNoApprovals) {
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(bundle_.data()),
                                       bundle_.size());
  Result<std::vector<std::string>> r = CheckApprovals(roster_, "records_pull", bytes, "");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST_F(TwoPersonTest, RosterErrorsAreNamedByLine) {
  const std::string key = HexEncode(alice_.pk);
  const std::pair<std::string, std::string> cases[] = {
      {"operator alice janitor " + key + "\n", "line 1: unknown role janitor"},
      {"operator alice auditor abcd\n", "line 1: a key is 64 hex digits"},
      {"operator a auditor " + key + "\noperator a auditor " + key + "\n",
       "line 2: operator a given twice"},
      {"operator a policy_officer " + key + "\nrequire policy_load 2 policy_officer\n",
       "line 2: policy_load needs 2 policy_officer operators; the roster has 1"},
      {"require policy_load 0 auditor\n", "line 1: m is a whole number from 1 to 16"},
      {"allow everything\n", "line 1: unknown directive allow"},
  };
  for (const auto& [text, expected] : cases) {
    Result<OperatorRoster> r = ParseOperatorRoster(text);
    ASSERT_FALSE(r.ok()) << expected;
    EXPECT_NE(r.status().message().find(expected), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace ipn::policy
