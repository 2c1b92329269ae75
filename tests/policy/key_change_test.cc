// Key changes under the two-person rule without a core or a key ring: the request's text,
// the check before acting (the change asked for, the ring's state it was made for, two
// key custodians), and the journal the core reads — whose approvers count only when they
// still verify against the roster.
#include "policy/key_change.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/encoding.h"
#include "common/file_util.h"
#include "tests/policy/operator_keys.h"
#include "tests/support/temp_dir.h"

namespace ipn::policy {
namespace {

using Custodian = OperatorKey;

constexpr char kBefore[] = "MUN-131016@v1:active";
constexpr char kAfter[] = "MUN-131016@v1:retired,MUN-131016@v2:active";

class TwoPersonKeyChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<OperatorRoster> r = ParseOperatorRoster(
        "operator kim key_custodian " + HexEncode(kim_.pk) + "\noperator lee key_custodian " +
        HexEncode(lee_.pk) + "\noperator alice policy_officer " + HexEncode(alice_.pk) +
        "\nrequire key_change 2 key_custodian\n");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    roster_ = *r;
    request_ = FormatKeyChangeRequest({"rotate-agency MUN-131016", RingStateHash(kBefore)});
  }
  std::string Approve(const Custodian& c, const std::string& text) {
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text.data()),
                                         text.size());
    return ApprovalLine(kKeyChangeAction, bytes, c.id, c.sk).value();
  }
  Status Check(const std::string& approvals, const std::string& what = "rotate-agency MUN-131016",
               const std::string& state = kBefore) {
    return CheckKeyChange(roster_, request_, approvals, what, state).status();
  }

  Custodian kim_{"kim"}, lee_{"lee"}, alice_{"alice"};
  OperatorRoster roster_;
  std::string request_;
};

TEST_F(TwoPersonKeyChangeTest, TheRequestRoundTripsAndMalformedOnesAreRefused) {
  Result<KeyChange> parsed = ParseKeyChangeRequest(request_);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->what, "rotate-agency MUN-131016");
  EXPECT_EQ(parsed->ring_before, RingStateHash(kBefore));
  EXPECT_EQ(request_, "ipn-key-change/1\nchange rotate-agency MUN-131016\nring " +
                          RingStateHash(kBefore) + "\n");
  for (const std::string& bad :
       {std::string(""), std::string("ipn-key-change/2\n") + request_.substr(17),
        request_ + "extra\n", request_.substr(0, request_.size() - 1),
        std::string("ipn-key-change/1\nchange \nring ") + RingStateHash(kBefore) + "\n"}) {
    EXPECT_EQ(ParseKeyChangeRequest(bad).status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

TEST_F(TwoPersonKeyChangeTest, TwoCustodiansApproveExactlyTheChangeTheyWereAskedFor) {
  const std::string both = Approve(kim_, request_) + Approve(lee_, request_);
  Result<std::vector<std::string>> ok =
      CheckKeyChange(roster_, request_, both, "rotate-agency MUN-131016", kBefore);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, (std::vector<std::string>{"kim", "lee"}));
  // One custodian, a custodian twice, a policy officer: refused.
  EXPECT_EQ(Check(Approve(kim_, request_)).code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(Check(Approve(kim_, request_) + Approve(kim_, request_)).code(),
            Status::Code::kPermissionDenied);
  EXPECT_EQ(Check(Approve(kim_, request_) + Approve(alice_, request_)).code(),
            Status::Code::kPermissionDenied);
  // Another change, or the ring after another change: refused even with both.
  EXPECT_EQ(Check(both, "retire MUN-131016 1").code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(Check(both, "rotate-agency MUN-131016", kAfter).code(),
            Status::Code::kPermissionDenied);
}

TEST_F(TwoPersonKeyChangeTest, TheJournalNamesApproversOnlyWhenTheyStillVerify) {
  ipn::testing::TempDir dir;
  EXPECT_EQ(KeyChangeChain(dir.path(), kBefore, kAfter, &roster_).status().code(),
            Status::Code::kNotFound);
  EXPECT_TRUE(KeyChangeChain(dir.path(), kBefore, kBefore, &roster_)->empty());
  const std::string both = Approve(kim_, request_) + Approve(lee_, request_);
  ASSERT_TRUE(JournalKeyChange(dir.path(), kBefore, kAfter, request_, both).ok());
  Result<std::vector<KeyChangeStep>> chain = KeyChangeChain(dir.path(), kBefore, kAfter, &roster_);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 1u);
  EXPECT_EQ((*chain)[0].actor, "kim+lee");
  EXPECT_EQ((*chain)[0].what, "rotate-agency MUN-131016");
  // A line written by hand naming two custodians whose signatures are not there: it names
  // them without a roster, and counts for nothing with one.
  const std::string forged = Approve(kim_, "another request") + Approve(lee_, "another request");
  ipn::testing::TempDir other;
  ASSERT_TRUE(JournalKeyChange(other.path(), kBefore, kAfter, request_, forged).ok());
  EXPECT_EQ(KeyChangeChain(other.path(), kBefore, kAfter, nullptr)->at(0).actor, "kim+lee");
  EXPECT_EQ(KeyChangeChain(other.path(), kBefore, kAfter, &roster_).status().code(),
            Status::Code::kPermissionDenied);
}

// The chain from one start's ring to the next, change by change: the core's own creation
// of an agency's first keys needs no approvals; a change made outside the journal breaks
// the chain even when an approved change follows it; an approved request cannot cover
// another change than the one it names.
TEST_F(TwoPersonKeyChangeTest, EveryChangeSinceTheLastStartMustBeJournalledAndApproved) {
  constexpr char kStart[] = "#records@v1:active";
  constexpr char kCreated[] = "#records@v1:active,MUN-131016@v1:active";
  constexpr char kRotated[] = "#records@v1:active,MUN-131016@v1:retired,MUN-131016@v2:active";
  constexpr char kByHand[] =
      "#records@v1:active,MUN-131016@v1:retired,MUN-131016@v2:active,"
      "PEN-0001@v1:retired,PEN-0001@v2:active";
  const std::string rotate =
      FormatKeyChangeRequest({"rotate-agency MUN-131016", RingStateHash(kCreated)});
  const std::string both = Approve(kim_, rotate) + Approve(lee_, rotate);
  ipn::testing::TempDir dir;
  ASSERT_TRUE(JournalKeyCreation(dir.path(), kStart, kCreated, "MUN-131016", "core").ok());
  ASSERT_TRUE(JournalKeyChange(dir.path(), kCreated, kRotated, rotate, both).ok());
  Result<std::vector<KeyChangeStep>> chain = KeyChangeChain(dir.path(), kStart, kRotated, &roster_);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].what + " by " + (*chain)[0].actor, "create-agency MUN-131016 by core");
  EXPECT_EQ((*chain)[1].what + " by " + (*chain)[1].actor, "rotate-agency MUN-131016 by kim+lee");
  EXPECT_EQ((*chain)[0].added, (std::vector<std::string>{"MUN-131016@v1:active"}));
  EXPECT_EQ((*chain)[1].added,
            (std::vector<std::string>{"MUN-131016@v1:retired", "MUN-131016@v2:active"}));

  // PEN's key rotated by hand, then an approved rotation journalled on top of it.
  const std::string after_hand = std::string(kByHand) + ",PEN-0002@v1:active";
  ASSERT_TRUE(JournalKeyCreation(dir.path(), kByHand, after_hand, "PEN-0002", "core").ok());
  EXPECT_EQ(KeyChangeChain(dir.path(), kStart, after_hand, &roster_).status().code(),
            Status::Code::kNotFound);

  // Approvals of "rotate MUN" journalled for a change that also touched PEN's keys.
  ipn::testing::TempDir other;
  ASSERT_TRUE(JournalKeyChange(other.path(), kCreated, kByHand, rotate, both).ok());
  EXPECT_EQ(KeyChangeChain(other.path(), kCreated, kByHand, &roster_).status().code(),
            Status::Code::kPermissionDenied);
  // A rotation journalled with no rule in force: the operator's alone, which a roster with
  // the rule does not accept.
  ipn::testing::TempDir no_rule;
  ASSERT_TRUE(JournalKeyChangeBy(no_rule.path(), kCreated, kRotated, "rotate-agency MUN-131016",
                                 "operator")
                  .ok());
  EXPECT_EQ(KeyChangeChain(no_rule.path(), kCreated, kRotated, nullptr)->at(0).actor, "operator");
  EXPECT_EQ(KeyChangeChain(no_rule.path(), kCreated, kRotated, &roster_).status().code(),
            Status::Code::kPermissionDenied);
  // A "creation" that in fact rotates a key.
  ipn::testing::TempDir third;
  ASSERT_TRUE(JournalKeyCreation(third.path(), kCreated, kRotated, "MUN-131016", "core").ok());
  EXPECT_EQ(KeyChangeChain(third.path(), kCreated, kRotated, &roster_).status().code(),
            Status::Code::kPermissionDenied);
}

TEST_F(TwoPersonKeyChangeTest, AChangeMatchesOnlyTheKeysItNames) {
  constexpr char kTwo[] = "#records@v1:active,MUN-131016@v1:active,PEN-0001@v1:active";
  EXPECT_TRUE(ChangeMatches("rotate-agency MUN-131016", kTwo,
                            "#records@v1:active,MUN-131016@v1:retired,MUN-131016@v2:active,"
                            "PEN-0001@v1:active"));
  EXPECT_FALSE(ChangeMatches("rotate-agency MUN-131016", kTwo, kTwo));  // nothing changed
  EXPECT_FALSE(ChangeMatches("rotate-agency MUN-131016", kTwo,
                             "#records@v1:active,MUN-131016@v1:active,PEN-0001@v1:retired,"
                             "PEN-0001@v2:active"));
  EXPECT_TRUE(ChangeMatches("rotate-records", kTwo,
                            "#records@v2:active,MUN-131016@v1:active,PEN-0001@v1:active"));
  EXPECT_FALSE(ChangeMatches("rotate-records", kTwo,
                             "#records@v2:active,MUN-131016@v1:retired,PEN-0001@v1:active"));
  EXPECT_TRUE(ChangeMatches("retire MUN-131016 1", "MUN-131016@v1:retired,MUN-131016@v2:active",
                            "MUN-131016@v1:destroyed,MUN-131016@v2:active"));
  EXPECT_FALSE(ChangeMatches("retire MUN-131016 2", "MUN-131016@v1:retired,MUN-131016@v2:active",
                             "MUN-131016@v1:destroyed,MUN-131016@v2:active"));
  EXPECT_TRUE(
      ChangeMatches("create-agency KEN-0001", kTwo, std::string(kTwo) + ",KEN-0001@v1:active"));
  EXPECT_FALSE(ChangeMatches("create-agency MUN-131016", "#records@v1:active",
                             "#records@v1:active,MUN-131016@v2:active"));
}

}  // namespace
}  // namespace ipn::policy
