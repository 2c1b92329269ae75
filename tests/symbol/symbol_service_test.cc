// SymbolService: issuance, translation, tamper and cross-agency rejection, batches, and
// persistence, on a real key ring file and a real RocksDB issuance file in a TempDir.
#include "symbol/symbol_service.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <string>

#include "common/clock.h"
#include "common/encoding.h"
#include "tests/support/temp_dir.h"
#include "tests/symbol/test_codes.h"

namespace ipn::symbol {
namespace {

using ipn::testing::TempDir;
using testing::FastOptions;
using testing::kPassphrase;

constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";
constexpr const char* kIns = "INS-0001";

class SymbolServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_ = FastOptions();
    options_.clock = &clock_;
    dir_ = tmp_.Sub("core");
    ASSERT_TRUE(SymbolService::Create(dir_, kPassphrase, options_).ok());
    Reopen();
  }
  void Reopen() {
    service_.reset();
    auto opened = SymbolService::Open(dir_, kPassphrase, options_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    service_ = std::move(opened).value();
  }
  AgencySymbol MustIssue(const std::string& code, const char* agency) {
    auto s = service_->Issue(code, agency);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : AgencySymbol{};
  }

  TempDir tmp_;
  ManualClock clock_{1'700'000'000'000'000};
  SymbolServiceOptions options_;
  std::string dir_;
  std::unique_ptr<SymbolService> service_;
};

TEST_F(SymbolServiceTest, IssuingIsDeterministicAndIdempotent) {
  AgencySymbol first = MustIssue("49428595750", kMun);
  clock_.Advance(5'000'000);
  AgencySymbol again = MustIssue("49428595750", kMun);
  EXPECT_EQ(first, again);
  EXPECT_EQ(first.key_version(), 1);
  auto entries = service_->IssuanceOf(first.bytes, kMun);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].agency_code, kMun);
  EXPECT_EQ((*entries)[0].first_issued_us, 1'700'000'000'000'000) << "first time is kept";

  AgencySymbol at_pen = MustIssue("49428595750", kPen);
  EXPECT_NE(at_pen, first) << "symbols of one person differ between agencies";
  AgencySymbol other = MustIssue("27957422883", kMun);
  EXPECT_NE(other, first);
  entries = service_->IssuanceOf(first.bytes, kMun);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 2u);
}

TEST_F(SymbolServiceTest, TranslateGivesTheProvidersSymbolTheRecordSymbolAndIssuance) {
  AgencySymbol at_mun = MustIssue("49428595750", kMun);
  AgencySymbol at_pen = MustIssue("49428595750", kPen);
  MustIssue("27957422883", kIns);  // INS has keys but never had this person

  auto t = service_->Translate(at_mun.bytes, kMun, kPen);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->provider_symbol, at_pen);
  EXPECT_TRUE(t->provider_issued);
  auto record_at_pen = service_->RecordSymbolOf(at_pen.bytes, kPen);
  ASSERT_TRUE(record_at_pen.ok());
  EXPECT_EQ(t->record_symbol, *record_at_pen) << "one record symbol per person";

  auto back = service_->Translate(at_pen.bytes, kPen, kMun);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->provider_symbol, at_mun);
  EXPECT_EQ(back->record_symbol, t->record_symbol);

  auto to_ins = service_->Translate(at_mun.bytes, kMun, kIns);
  ASSERT_TRUE(to_ins.ok());
  EXPECT_FALSE(to_ins->provider_issued);
  EXPECT_EQ(to_ins->provider_symbol.key_version(), 1);

  auto to_unknown = service_->Translate(at_mun.bytes, kMun, "EDU-401307");
  ASSERT_TRUE(to_unknown.ok()) << to_unknown.status().ToString();
  EXPECT_FALSE(to_unknown->provider_issued);
  EXPECT_EQ(to_unknown->provider_symbol, AgencySymbol{}) << "no keys yet: no symbol";
  EXPECT_EQ(to_unknown->record_symbol, t->record_symbol);
  // Translate changes nothing: the unknown provider still has no keys.
  for (const auto& k : service_->ListKeys()) EXPECT_NE(k.agency, "EDU-401307");

  auto bad_provider = service_->Translate(at_mun.bytes, kMun, "no such agency!");
  ASSERT_FALSE(bad_provider.ok());
  EXPECT_EQ(bad_provider.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(SymbolServiceTest, EverySingleBitFlipOfAPresentedSymbolIsRejected) {
  AgencySymbol symbol = MustIssue("23015956917", kMun);
  MustIssue("23015956917", kPen);
  ASSERT_TRUE(service_->RotateAgencyKey(kMun).ok());  // versions 1 and 2 both open
  for (size_t bit = 0; bit < AgencySymbol::kSize * 8; ++bit) {
    AgencySymbol flipped = symbol;
    flipped.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto t = service_->Translate(flipped.bytes, kMun, kPen);
    ASSERT_FALSE(t.ok()) << "bit " << bit << " was accepted";
    EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument) << "bit " << bit;
    EXPECT_EQ(t.status().message().rfind("invalid symbol", 0), 0u) << t.status().message();
    EXPECT_FALSE(service_->RecordSymbolOf(flipped.bytes, kMun).ok()) << "bit " << bit;
  }
  EXPECT_TRUE(service_->Translate(symbol.bytes, kMun, kPen).ok());
}

TEST_F(SymbolServiceTest, AnotherAgencysSymbolIsRejected) {
  AgencySymbol at_mun = MustIssue("49428595750", kMun);
  AgencySymbol at_pen = MustIssue("49428595750", kPen);
  for (auto [symbol, presented_as] :
       {std::pair{at_mun, kPen}, std::pair{at_pen, kMun}, std::pair{at_mun, kIns}}) {
    auto t = service_->Translate(symbol.bytes, presented_as, kPen);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument);
    EXPECT_FALSE(service_->RecordSymbolOf(symbol.bytes, presented_as).ok());
  }
  // Wrong sizes and the printable form where binary is expected.
  std::string printable = at_mun.ToPrintable();
  auto t = service_->Translate(AsBytes(printable), kMun, kPen);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("50 bytes"), std::string::npos);
  EXPECT_FALSE(service_->Translate({}, kMun, kPen).ok());
}

TEST_F(SymbolServiceTest, MalformedInputIsRejectedWithItsRuleAndChangesNothing) {
  struct Case {
    std::string code;
    const char* fragment;
  };
  for (const auto& c : std::vector<Case>{{"", "empty"},
                                         {"4942859575", "11 digits"},
                                         {"49428595751", "check digit"},
                                         {"４９４２８５９５７５０", "full-width"},
                                         {"4942859575a", "not a digit"}}) {
    auto s = service_->Issue(c.code, "NEW-9999");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find(c.fragment), std::string::npos) << s.status().message();
  }
  auto bad_agency = service_->Issue("49428595750", "MUN 131016");
  ASSERT_FALSE(bad_agency.ok());
  EXPECT_NE(bad_agency.status().message().find("agency code"), std::string::npos);
  EXPECT_TRUE(service_->ListKeys().empty()) << "a rejected issuance must not create keys";
}

TEST_F(SymbolServiceTest, BatchIssuanceMatchesSingleIssuanceAndReportsEachBadCode) {
  auto codes = testing::DistinctResidentCodes(50, 3);
  std::vector<std::string> input = codes;
  input.insert(input.begin() + 10, "12345");        // wrong length
  input.insert(input.begin() + 20, "49428595751");  // bad check digit
  input.push_back(codes[0]);                        // duplicate in one batch
  auto results = service_->IssueBatch(input, kMun);
  ASSERT_EQ(results.size(), input.size());
  EXPECT_FALSE(results[10].ok());
  EXPECT_NE(results[10].status().message().find("11 digits"), std::string::npos);
  EXPECT_FALSE(results[20].ok());
  EXPECT_NE(results[20].status().message().find("check digit"), std::string::npos);
  for (size_t i = 0; i < input.size(); ++i) {
    if (i == 10 || i == 20) continue;
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status().ToString();
    EXPECT_EQ(*results[i], MustIssue(input[i], kMun)) << i;
  }
  auto entries = service_->IssuanceOf(results[0]->bytes, kMun);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 1u);

  auto bad_agency = service_->IssueBatch(codes, "");
  ASSERT_EQ(bad_agency.size(), codes.size());
  for (const auto& r : bad_agency) EXPECT_FALSE(r.ok());
  EXPECT_TRUE(service_->IssueBatch({}, kMun).empty());
}

TEST_F(SymbolServiceTest, SymbolsAndIssuanceSurviveReopening) {
  AgencySymbol before = MustIssue("27957422883", kPen);
  MustIssue("27957422883", kMun);
  Reopen();
  EXPECT_EQ(MustIssue("27957422883", kPen), before);
  auto t = service_->Translate(before.bytes, kPen, kMun);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->provider_issued);
}

TEST_F(SymbolServiceTest, RecordKeysAreUsableAndRotateNewestLast) {
  auto keys = service_->GetRecordKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->encryption.size(), 1u);
  EXPECT_EQ(keys->encryption[0].first, 1u);
  EXPECT_EQ(keys->encryption[0].second.size(), 32u);
  ASSERT_EQ(keys->signing_secret_key.size(), 64u);
  std::array<uint8_t, 64> sig;
  const uint8_t msg[] = {1, 2, 3};
  crypto_sign_detached(sig.data(), nullptr, msg, sizeof msg, keys->signing_secret_key.data());
  EXPECT_EQ(
      crypto_sign_verify_detached(sig.data(), msg, sizeof msg, keys->signing_public_key.data()), 0);
  auto v2 = service_->RotateRecordEncryptionKey();
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, 2u);
  Reopen();
  auto after = service_->GetRecordKeys();
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->encryption.size(), 2u);
  EXPECT_EQ(after->encryption[1].first, 2u);
  EXPECT_EQ(
      sodium_memcmp(after->encryption[0].second.data(), keys->encryption[0].second.data(), 32), 0);
  EXPECT_NE(
      sodium_memcmp(after->encryption[1].second.data(), keys->encryption[0].second.data(), 32), 0);
  EXPECT_EQ(after->signing_public_key, keys->signing_public_key);
}

}  // namespace
}  // namespace ipn::symbol

namespace ipn::symbol {
namespace {

// Two sites of a replicated core: one key ring (agency keys made beforehand), copied; an
// issuance at one site applied at the other gives the same translation there.
TEST_F(SymbolServiceTest, SitesSharingTheRingAgreeOnIssuanceApplied) {
  ASSERT_TRUE(service_->EnsureAgencyKeys(kMun).ok());
  ASSERT_TRUE(service_->EnsureAgencyKeys(kPen).ok());
  ASSERT_TRUE(service_->EnsureAgencyKeys(kMun).ok()) << "idempotent";
  EXPECT_EQ(service_->EnsureAgencyKeys("not an agency").code(), Status::Code::kInvalidArgument);
  service_.reset();
  const std::string west = tmp_.Sub("west");
  std::filesystem::copy(dir_, west, std::filesystem::copy_options::recursive);
  SymbolServiceOptions replicated = options_;
  replicated.create_agency_keys = false;
  auto east_opened = SymbolService::Open(dir_, kPassphrase, replicated);
  auto west_opened = SymbolService::Open(west, kPassphrase, replicated);
  ASSERT_TRUE(east_opened.ok() && west_opened.ok());
  SymbolService& east = **east_opened;
  SymbolService& west_site = **west_opened;

  LinkageSymbol linkage;
  auto at_mun = east.Issue("49428595750", kMun, &linkage);
  ASSERT_TRUE(at_mun.ok()) << at_mun.status().ToString();
  LinkageSymbol linkage_pen;
  auto at_pen = east.Issue("49428595750", kPen, &linkage_pen);
  ASSERT_TRUE(at_pen.ok());
  EXPECT_TRUE(linkage.Equals(linkage_pen)) << "one linkage symbol per person";
  // Handed out for replication: not recorded at the issuing site either, until applied.
  auto at_east = east.Translate(at_pen->bytes, kPen, kMun);
  ASSERT_TRUE(at_east.ok());
  EXPECT_FALSE(at_east->provider_issued);
  ASSERT_TRUE(east.ApplyIssuance(linkage.span(), kMun, 1'700'000'000'000'000).ok());
  at_east = east.Translate(at_pen->bytes, kPen, kMun);
  ASSERT_TRUE(at_east.ok());
  EXPECT_TRUE(at_east->provider_issued);
  // West knew nothing of the person until the issuances are applied.
  auto before = west_site.Translate(at_pen->bytes, kPen, kMun);
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->provider_issued);
  ASSERT_TRUE(west_site.ApplyIssuance(linkage.span(), kMun, 1'700'000'000'000'000).ok());
  ASSERT_TRUE(west_site.ApplyIssuance(linkage.span(), kPen, 1'700'000'000'000'000).ok());
  ASSERT_TRUE(west_site.ApplyIssuance(linkage.span(), kMun, 1'800'000'000'000'000).ok());
  auto after = west_site.Translate(at_pen->bytes, kPen, kMun);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->provider_issued);
  EXPECT_EQ(after->provider_symbol, *at_mun) << "same keys, same symbols at both sites";
  auto entries = west_site.IssuanceOf(at_mun->bytes, kMun);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  for (const auto& e : *entries) EXPECT_EQ(e.first_issued_us, 1'700'000'000'000'000);

  // A replicated site makes no agency keys on first use: it says what to do instead.
  auto unknown = east.Issue("49428595750", kIns);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(unknown.status().message().find("ipn keys"), std::string::npos);
  for (const auto& k : east.ListKeys()) EXPECT_NE(k.agency, kIns);
}

}  // namespace
}  // namespace ipn::symbol
