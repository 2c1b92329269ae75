// Key changes under the two-person rule without a core or a key ring: the request's text,
// the check before acting (the change asked for, the ring's state it was made for, two
// key custodians), and the journal the core reads — whose approvers count only when they
// still verify against the roster.
#include "policy/key_change.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/encoding.h"
#include "common/file_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::policy {
namespace {

struct Custodian {
  std::string id;
  std::array<uint8_t, 32> pk{};
  std::array<uint8_t, 64> sk{};
  explicit Custodian(std::string name) : id(std::move(name)) {
    crypto_sign_keypair(pk.data(), sk.data());
  }
};

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
  EXPECT_EQ(KeyChangeApprovers(dir.path(), kAfter, &roster_).status().code(),
            Status::Code::kNotFound);
  const std::string both = Approve(kim_, request_) + Approve(lee_, request_);
  ASSERT_TRUE(JournalKeyChange(dir.path(), kAfter, request_, both).ok());
  EXPECT_EQ(*KeyChangeApprovers(dir.path(), kAfter, &roster_), "kim+lee");
  EXPECT_EQ(KeyChangeApprovers(dir.path(), kBefore, &roster_).status().code(),
            Status::Code::kNotFound);
  // A line written by hand naming two custodians whose signatures are not there: it names
  // them without a roster, and counts for nothing with one.
  const std::string forged = Approve(kim_, "another request") + Approve(lee_, "another request");
  ipn::testing::TempDir other;
  ASSERT_TRUE(JournalKeyChange(other.path(), kAfter, request_, forged).ok());
  EXPECT_EQ(*KeyChangeApprovers(other.path(), kAfter, nullptr), "kim+lee");
  EXPECT_EQ(KeyChangeApprovers(other.path(), kAfter, &roster_).status().code(),
            Status::Code::kPermissionDenied);
}

}  // namespace
}  // namespace ipn::policy
