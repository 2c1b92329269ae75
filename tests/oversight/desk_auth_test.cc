// The desk's log-in (oversight/desk_auth.h), audit log (desk_audit.h) and anomaly cases
// (desk_cases.h), with a clock the tests move.
#include "oversight/desk_auth.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>

#include "common/file_util.h"
#include "oversight/desk_audit.h"
#include "oversight/desk_cases.h"
#include "tests/support/temp_dir.h"

namespace ipn::oversight {
namespace {

constexpr int64_t kT0 = 1'790'000'000'000'000;

class DeskAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    secret_ = SecretBytes::Random(20);
    line_ = InvestigatorLine("inspector", kPassword, secret_.span()).value();
    auth_ = NewAuth();
  }
  std::unique_ptr<DeskAuth> NewAuth() {
    return std::make_unique<DeskAuth>(ParseInvestigators(line_ + "\n").value(), &clock_);
  }
  std::string Code(int64_t offset_steps = 0) {
    return TotpCode(secret_.span(),
                    static_cast<uint64_t>(clock_.NowMicros() / kTotpStepUs + offset_steps));
  }
  static constexpr char kPassword[] = "correct horse battery";
  ManualClock clock_{kT0};
  SecretBytes secret_;
  std::string line_;
  std::unique_ptr<DeskAuth> auth_;
};

TEST(DeskTotpTest, MatchesTheRfc6238Sha256Vectors) {
  // RFC 6238 Appendix B, SHA-256 seed (32 bytes), 8-digit codes; ours are the last 6.
  const std::string seed = "12345678901234567890123456789012";
  const std::span<const uint8_t> key(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
  EXPECT_EQ(TotpCode(key, 59 / 30), "119246");           // 46119246
  EXPECT_EQ(TotpCode(key, 1111111109 / 30), "084774");   // 68084774
  EXPECT_EQ(TotpCode(key, 1234567890 / 30), "819424");   // 91819424
  EXPECT_EQ(TotpCode(key, 2000000000 / 30), "698825");   // 90698825
  EXPECT_EQ(TotpCode(key, 20000000000 / 30), "737706");  // 77737706
}

TEST(DeskTotpTest, TheUriCarriesTheSecretInRfc4648Base32) {
  const std::string seed = "12345678901234567890";  // RFC 6238's SHA-1 seed: a known spelling
  EXPECT_EQ(TotpUri("suzuki", {reinterpret_cast<const uint8_t*>(seed.data()), seed.size()}),
            "otpauth://totp/IPN%20desk:suzuki?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=IPN%20desk&algorithm=SHA256&digits=6&period=30");
}

TEST_F(DeskAuthTest, PasswordAndCodeOpenASessionAndACodeWorksOnce) {
  Result<DeskSession> s = auth_->LogIn("inspector", kPassword, Code());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(auth_->SessionOwner(s->page_half, s->cookie_half).value(), "inspector");
  EXPECT_FALSE(auth_->SessionOwner(s->page_half, "").ok());
  EXPECT_FALSE(auth_->SessionOwner(s->cookie_half, s->page_half).ok());
  // The same code again: refused, though password and code are right.
  EXPECT_EQ(auth_->LogIn("inspector", kPassword, Code()).status().code(),
            Status::Code::kPermissionDenied);
  // The next step's code is fine (a clock a little ahead).
  EXPECT_TRUE(auth_->LogIn("inspector", kPassword, Code(1)).ok());
  auth_->LogOut(s->page_half, s->cookie_half);
  EXPECT_FALSE(auth_->SessionOwner(s->page_half, s->cookie_half).ok());
}

TEST_F(DeskAuthTest, EachFactorAloneIsRefusedAndFiveFailuresLockTheName) {
  EXPECT_FALSE(auth_->LogIn("inspector", "wrong password!!", Code()).ok());
  EXPECT_FALSE(auth_->LogIn("inspector", kPassword, Code() == "000000" ? "111111" : "000000").ok());
  EXPECT_FALSE(auth_->LogIn("inspector", kPassword, Code(5)).ok());  // 2.5 minutes off
  EXPECT_FALSE(auth_->LogIn("nobody", kPassword, Code()).ok());
  EXPECT_FALSE(auth_->LogIn("inspector", kPassword, "").ok());
  EXPECT_FALSE(auth_->LogIn("inspector", "x", Code()).ok());
  // Five failures: now even the right password and code are refused, as locked.
  Result<DeskSession> locked = auth_->LogIn("inspector", kPassword, Code());
  EXPECT_EQ(locked.status().code(), Status::Code::kResourceExhausted);
  EXPECT_GT(auth_->LockedForSeconds("inspector"), 0);
  clock_.Advance(kLockoutUs);
  EXPECT_EQ(auth_->LockedForSeconds("inspector"), 0);
  EXPECT_TRUE(auth_->LogIn("inspector", kPassword, Code()).ok());
}

TEST_F(DeskAuthTest, ASessionEndsWhenIdleAndAfterItsMaximum) {
  DeskSession s = auth_->LogIn("inspector", kPassword, Code()).value();
  clock_.Advance(kIdleUs - 1);
  EXPECT_TRUE(auth_->SessionOwner(s.page_half, s.cookie_half).ok());  // used: idle again from here
  clock_.Advance(kIdleUs);
  EXPECT_FALSE(auth_->SessionOwner(s.page_half, s.cookie_half).ok());
  clock_.Advance(kTotpStepUs);
  s = auth_->LogIn("inspector", kPassword, Code()).value();
  int64_t elapsed = 0;
  while (elapsed + kIdleUs / 2 < kSessionMaxUs) {
    clock_.Advance(kIdleUs / 2);
    elapsed += kIdleUs / 2;
    EXPECT_TRUE(auth_->SessionOwner(s.page_half, s.cookie_half).ok()) << elapsed;
  }
  clock_.Advance(kSessionMaxUs - elapsed);
  EXPECT_FALSE(auth_->SessionOwner(s.page_half, s.cookie_half).ok());
}

TEST_F(DeskAuthTest, TheAuditLearnsWhichFactorFailedAndThePageDoesNot) {
  std::string why;
  Result<DeskSession> s = auth_->LogIn("inspector", "wrong password!!", Code(), &why);
  EXPECT_EQ(s.status().message(), "wrong name, password or one-time code");
  EXPECT_EQ(why, "wrong password");
  s = auth_->LogIn("inspector", kPassword, Code(5), &why);
  EXPECT_EQ(s.status().message(), "wrong name, password or one-time code");
  EXPECT_EQ(why, "the password was right; the one-time code was wrong or used");
  s = auth_->LogIn("nobody", kPassword, Code(), &why);
  EXPECT_EQ(s.status().message(), "wrong name, password or one-time code");
  EXPECT_EQ(why, "no such investigator");
  ASSERT_TRUE(auth_->LogIn("inspector", kPassword, Code(), &why).ok());
  EXPECT_EQ(why, "");
}

TEST_F(DeskAuthTest, ACodeUsedBeforeARestartStaysUsedAfterIt) {
  testing::TempDir dir;
  const std::string steps = dir.Sub("totp_steps");
  ASSERT_TRUE(auth_->KeepStepsIn(steps).ok());
  ASSERT_TRUE(auth_->LogIn("inspector", kPassword, Code()).ok());
  const uint64_t step = static_cast<uint64_t>(clock_.NowMicros() / kTotpStepUs);
  EXPECT_EQ(ReadFile(steps).value(), "inspector " + std::to_string(step) + "\n");

  // The desk restarts within the code's 90 seconds: the code is still spent.
  auth_ = NewAuth();
  ASSERT_TRUE(auth_->KeepStepsIn(steps).ok());
  std::string why;
  EXPECT_EQ(auth_->LogIn("inspector", kPassword, Code(), &why).status().code(),
            Status::Code::kPermissionDenied);
  EXPECT_EQ(why, "the password was right; the one-time code was wrong or used");
  EXPECT_TRUE(auth_->LogIn("inspector", kPassword, Code(1)).ok());
  EXPECT_EQ(ReadFile(steps).value(), "inspector " + std::to_string(step + 1) + "\n");
  // Without the file (the behaviour before it), the restart would have made it good again.
  auth_ = NewAuth();
  EXPECT_TRUE(auth_->LogIn("inspector", kPassword, Code()).ok());
}

TEST_F(DeskAuthTest, AStepsFileThatCannotBeReadOrWrittenStopsTheStart) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("bad")) << "inspector 12\ninspector twelve\n";
  Status bad = auth_->KeepStepsIn(dir.Sub("bad"));
  EXPECT_EQ(bad.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(bad.message().find("line 2"), std::string::npos) << bad.message();
  // A name that is no longer an account is dropped when the file is next written.
  std::ofstream(dir.Sub("old")) << "retired 99\n";
  ASSERT_TRUE(auth_->KeepStepsIn(dir.Sub("old")).ok());
  EXPECT_EQ(ReadFile(dir.Sub("old")).value(), "");
  EXPECT_FALSE(NewAuth()->KeepStepsIn(dir.Sub("no/such/dir/steps")).ok());
}

TEST(DeskAccountsTest, AMalformedAccountsFileNamesItsLine) {
  EXPECT_EQ(ParseInvestigators("# c\n\nbad line\n").status().message(),
            "accounts file line 3: expected name:password-hash:totp-secret");
  EXPECT_FALSE(ParseInvestigators("a:$argon2id$x:00\n").ok());  // a short secret
  EXPECT_FALSE(ParseInvestigators("a b:$argon2id$x:" + std::string(40, '0') + "\n").ok());
  EXPECT_FALSE(InvestigatorLine("inspector", "short", SecretBytes::Random(20).span()).ok());
}

TEST(DeskAuditTest, EntriesChainAndAChangedLineIsFoundAtOpen) {
  testing::TempDir dir;
  ManualClock clock(kT0);
  const std::string path = dir.Sub("audit.log");
  {
    auto audit = DeskAudit::Open(path, 1 << 20, &clock).value();
    ASSERT_TRUE(audit->Append("inspector", "view", "/api/volumes?granularity=month").ok());
    ASSERT_TRUE(audit->Append("inspector", "view", std::string("bad\x01\xff", 5)).ok());
    ASSERT_TRUE(audit->Append("other", "set_status", "/api/anomalies/x {}").ok());
  }
  auto audit = DeskAudit::Open(path, 1 << 20, &clock).value();
  EXPECT_EQ(audit->entries(), 3u);
  std::vector<AuditEntry> recent = audit->Recent(2);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].who, "other");
  EXPECT_EQ(recent[1].detail, "bad?\xef\xbf\xbd");  // control character and bad UTF-8 replaced

  std::string text = ReadFile(path).value();
  text.replace(text.find("granularity=month"), 17, "granularity=day  ");
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
  Result<std::unique_ptr<DeskAudit>> reopened = DeskAudit::Open(path, 1 << 20, &clock);
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.status().message().find("line 1: the chain breaks"), std::string::npos)
      << reopened.status().ToString();
}

TEST(DeskAuditTest, AFullLogRefusesAndKeepsWhatItHas) {
  testing::TempDir dir;
  ManualClock clock(kT0);
  auto audit = DeskAudit::Open(dir.Sub("audit.log"), 400, &clock).value();
  ASSERT_TRUE(audit->Append("inspector", "view", "/api/summary").ok());
  Status full = audit->Append("inspector", "view", std::string(300, 'x'));
  EXPECT_EQ(full.code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(audit->entries(), 1u);
  EXPECT_TRUE(DeskAudit::Open(dir.Sub("audit.log"), 400, &clock).ok());
}

TEST(DeskCasesTest, AFlagSeenAgainKeepsItsStatusAndClosingNeedsANote) {
  testing::TempDir dir;
  auto cases = DeskCases::Open(dir.Sub("cases.json")).value();
  Anomaly a{"person_focus", "PEN-0001", 100, 200, 12, 10, "12 inquiries", {5, 6, 7}};
  Anomaly b{"off_hours", "INS-0001", 300, 400, 3, 1, "3 off hours", {9}};
  EXPECT_EQ(cases->Merge({a, b}, kT0).value(), 2u);
  const std::string id = CaseId(a);
  EXPECT_EQ(cases->SetStatus(id, CaseStatus::kClosed, "  ", "inspector", kT0).status().code(),
            Status::Code::kInvalidArgument);
  ASSERT_TRUE(cases->SetStatus(id, CaseStatus::kUnderReview, "asked PEN", "inspector", kT0).ok());
  a.count = 13;
  a.sequences.push_back(8);
  EXPECT_EQ(cases->Merge({a}, kT0 + 1).value(), 0u);
  auto reopened = DeskCases::Open(dir.Sub("cases.json")).value();
  DeskCase c = reopened->Get(id).value();
  EXPECT_EQ(c.status, CaseStatus::kUnderReview);
  EXPECT_EQ(c.note, "asked PEN");
  EXPECT_EQ(c.anomaly.count, 13u);
  EXPECT_EQ(c.anomaly.sequences, (std::vector<uint64_t>{5, 6, 7, 8}));
  ASSERT_EQ(reopened->List(CaseStatus::kOpen).size(), 1u);
  EXPECT_EQ(reopened->List(std::nullopt)[0].anomaly.rule, "off_hours");  // newest window first
  EXPECT_EQ(reopened->Get("0000000000000000").status().code(), Status::Code::kNotFound);
}

TEST(DeskCasesTest, AClosedCaseThatGrowsIsOpenAgainAndSaysWhy) {
  testing::TempDir dir;
  auto cases = DeskCases::Open(dir.Sub("cases.json")).value();
  Anomaly a{"refusal_burst", "MUN-131016", 100, 200, 20, 20, "20 refusals", {}};
  for (uint64_t i = 0; i < 20; ++i) a.sequences.push_back(i);
  ASSERT_EQ(cases->Merge({a}, kT0).value(), 1u);
  const std::string id = CaseId(a);
  ASSERT_TRUE(cases->SetStatus(id, CaseStatus::kClosed, "a batch rerun", "inspector", kT0).ok());
  EXPECT_EQ(cases->Merge({a}, kT0 + 1).value(), 0u);  // the same flag: stays closed
  EXPECT_EQ(cases->Get(id).value().status, CaseStatus::kClosed);
  a.count = 23;
  a.sequences.insert(a.sequences.end(), {20, 21, 22});
  ASSERT_TRUE(cases->Merge({a}, kT0 + 2).ok());
  const DeskCase c = cases->Get(id).value();
  EXPECT_EQ(c.status, CaseStatus::kOpen);
  EXPECT_EQ(c.note, "a batch rerun\n[reopened by the desk: 3 more records]");
  EXPECT_EQ(c.updated_by, "desk");
  EXPECT_EQ(cases->Count(CaseStatus::kOpen), 1u);
}

}  // namespace
}  // namespace ipn::oversight
