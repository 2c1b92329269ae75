// The quarterly fee statement: the signed tariff file (parse, sign, tamper, wrong key,
// malformed lines) and the statement itself — by hand-built records with exact figures,
// and from a pull of a real store served by the core's RecordAccess, refused when the
// pull does not verify, is filtered, or does not cover the quarter; and `ipn oversight
// fees` on the pull's file, with a signed and with an altered tariff.
#include "oversight/fee_statement.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>

#include <cstdlib>

#include "common/encoding.h"
#include "common/file_util.h"
#include "core/record_access.h"
#include "oversight/tariff.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::oversight {
namespace {

using records::Event;
using records::Record;

struct AdminKeys {
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk{};
  AdminKeys() { crypto_sign_keypair(pk.data(), sk.data()); }
};

constexpr char kTariffText[] =
    "# fees for the test\n"
    "version = 3\n"
    "effective_from = 2026-04-01\n"
    "yen_per_exchange = 0.5\n"
    "business.B-CHEAP = 0.25   # a business with its own rate\n";

Tariff SignedTariff(const AdminKeys& keys) {
  Result<std::string> signed_text = SignTariff(kTariffText, keys.sk);
  EXPECT_TRUE(signed_text.ok()) << signed_text.status().ToString();
  Result<Tariff> t = ParseSignedTariff(*signed_text, keys.pk);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : Tariff{};
}

TEST(FeeTariffTest, ASignedTariffReadsBackExactly) {
  AdminKeys keys;
  Tariff t = SignedTariff(keys);
  EXPECT_EQ(t.version, 3u);
  EXPECT_EQ(t.effective_from, "2026-04-01");
  EXPECT_EQ(t.effective_from_unix_us, 1774969200LL * 1000000);  // 2026-03-31T15:00:00Z
  EXPECT_EQ(t.default_sen, 50);
  EXPECT_EQ(t.SenFor("B-CHEAP"), 25);
  EXPECT_EQ(t.SenFor("B-OTHER"), 50);
  EXPECT_EQ(FormatYen(t.SenFor("B-CHEAP")), "0.25");
  EXPECT_EQ(FormatYen(123456), "1234.56");
}

TEST(FeeTariffTest, AChangedAmountOrAnotherSignerIsRefused) {
  AdminKeys keys, other;
  std::string text = SignTariff(kTariffText, keys.sk).value();
  std::string tampered = text;
  tampered.replace(tampered.find("0.5\n"), 4, "0.6\n");
  Result<Tariff> t = ParseSignedTariff(tampered, keys.pk);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kPermissionDenied);
  Result<Tariff> wrong = ParseSignedTariff(text, other.pk);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Status::Code::kPermissionDenied);
  Result<Tariff> unsigned_file = ParseSignedTariff(kTariffText, keys.pk);
  ASSERT_FALSE(unsigned_file.ok());
  EXPECT_NE(unsigned_file.status().message().find("not signed"), std::string::npos);
  // Signing again replaces the old signature and verifies.
  EXPECT_TRUE(ParseSignedTariff(SignTariff(text, keys.sk).value(), keys.pk).ok());
}

TEST(FeeTariffTest, MalformedLinesAreNamedByNumber) {
  AdminKeys keys;
  const std::pair<std::string, std::string> cases[] = {
      {"version = 1\neffective_from = 2026-04-01\nyen_per_exchange = 0.505\n", "line 3"},
      {"version = 1\neffective_from = 2026-02-30\nyen_per_exchange = 1\n", "line 2"},
      {"version = 1\nversion = 2\n", "line 2: version given twice"},
      {"version = 1\nfee = 2\n", "line 2: unknown key `fee`"},
      {"version = 1\njust words\n", "line 2: expected `key = value`"},
      {"version = 1\nyen_per_exchange = -1\n", "line 2"},
      {"version = 1\nyen_per_exchange = 1\n", "effective_from is missing"},
  };
  for (const auto& [text, expected] : cases) {
    Result<std::string> s = SignTariff(text, keys.sk);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument) << text;
    EXPECT_NE(s.status().message().find(expected), std::string::npos)
        << s.status().message() << " / " << expected;
  }
  std::string text = SignTariff(kTariffText, keys.sk).value() + "yen_per_exchange = 9\n";
  Result<Tariff> after = ParseSignedTariff(text, keys.pk);
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.status().message().find("nothing may follow the signature"), std::string::npos);
}

TEST(FeeQuarterTest, QuartersAreJstCalendarQuarters) {
  Quarter q = ParseQuarter("2026Q3").value();
  EXPECT_EQ(q.name, "2026Q3");
  EXPECT_EQ(q.from_unix_us, 1782831600LL * 1000000);  // 2026-06-30T15:00:00Z
  EXPECT_EQ(q.to_unix_us, 1790780400LL * 1000000);    // 2026-09-30T15:00:00Z
  Quarter q4 = ParseQuarter("2026-Q4").value();
  EXPECT_EQ(q4.from_unix_us, q.to_unix_us);
  EXPECT_EQ(q4.to_unix_us, 1798729200LL * 1000000);  // 2026-12-31T15:00:00Z
  for (const char* bad : {"2026Q5", "2026Q0", "26Q3", "2026-07", "", "2026Q3x"}) {
    EXPECT_FALSE(ParseQuarter(bad).ok()) << bad;
  }
}

Record Exchange(Event event, const std::string& inquirer, const std::string& business,
                const std::string& item, const std::string& request_id, int64_t time_us) {
  Record r;
  r.time_unix_us = time_us;
  r.event = event;
  r.record_symbol = records::testing::Symbol(7);
  r.inquirer = inquirer;
  r.provider = "PROV";
  r.business = business;
  r.item = item;
  r.request_id = request_id;
  r.outcome = "ok";
  return r;
}

TEST(FeeStatementTest, OnlyProvidedExchangesOfTheQuarterAreChargedOnceEach) {
  AdminKeys keys;
  const Tariff tariff = SignedTariff(keys);
  const Quarter q = ParseQuarter("2026Q3").value();
  const int64_t in = q.from_unix_us + 1000;
  std::vector<Record> rs = {
      Exchange(Event::kInquiryAccepted, "A", "B-X", "I1", "r1", in),
      Exchange(Event::kProvided, "A", "B-X", "I1", "r1", in + 1),
      Exchange(Event::kReceived, "A", "B-X", "I1", "r1", in + 2),
      Exchange(Event::kProvided, "A", "B-X", "I1", "r1", in + 3),  // sent again: once
      Exchange(Event::kProvided, "A", "B-X", "I1", "r2", in + 4),
      Exchange(Event::kProvided, "A", "B-CHEAP", "I2", "r3", in + 5),
      Exchange(Event::kProvided, "C", "B-X", "I1", "r1", in + 6),  // same id, other agency
      Exchange(Event::kInquiryRefused, "C", "B-X", "I1", "r4", in + 7),
      Exchange(Event::kNotHeld, "C", "B-X", "I1", "r5", in + 8),
      Exchange(Event::kTimedOut, "C", "B-X", "I1", "r6", in + 9),
      Exchange(Event::kFailed, "C", "B-X", "I1", "r7", in + 10),
      Exchange(Event::kProvided, "C", "B-X", "I1", "r8", q.from_unix_us - 1),  // Q2
      Exchange(Event::kProvided, "C", "B-X", "I1", "r9", q.to_unix_us),        // Q4
      // Provided at the end of Q2 and sent again in Q3: charged in Q2 only.
      Exchange(Event::kProvided, "C", "B-X", "I1", "r10", q.from_unix_us - 2),
      Exchange(Event::kProvided, "C", "B-X", "I1", "r10", q.from_unix_us + 2),
  };
  Record audit = Exchange(Event::kProvided, "OPS", "B-X", "I1", "a1", in);
  audit.record_symbol = records::kAuditRecordSymbol;
  rs.push_back(audit);

  FeeStatement s = ComputeFees(rs, tariff, q).value();
  ASSERT_EQ(s.lines.size(), 3u);
  EXPECT_EQ(s.lines[0].inquirer, "A");
  EXPECT_EQ(s.lines[0].business, "B-CHEAP");
  EXPECT_EQ(s.lines[0].exchanges, 1u);
  EXPECT_EQ(s.lines[0].amount_sen, 25);
  EXPECT_EQ(s.lines[1].business, "B-X");
  EXPECT_EQ(s.lines[1].exchanges, 2u);
  EXPECT_EQ(s.lines[1].amount_sen, 100);
  EXPECT_EQ(s.lines[2].inquirer, "C");
  EXPECT_EQ(s.lines[2].exchanges, 1u);
  EXPECT_EQ(s.inquirer_total_sen.at("A"), 125);
  EXPECT_EQ(s.inquirer_total_sen.at("C"), 50);
  EXPECT_EQ(s.chargeable_exchanges, 4u);
  EXPECT_EQ(s.total_sen, 175);
  EXPECT_EQ(FeeStatementCsv(s),
            "quarter,inquirer,business,item,chargeable_exchanges,yen_per_exchange,amount_yen\n"
            "2026Q3,A,B-CHEAP,I2,1,0.25,0.25\n"
            "2026Q3,A,B-X,I1,2,0.50,1.00\n"
            "2026Q3,C,B-X,I1,1,0.50,0.50\n"
            "2026Q3,A,(total),,3,,1.25\n"
            "2026Q3,C,(total),,1,,0.50\n"
            "2026Q3,(all),,,4,,1.75\n");
}

TEST(FeeStatementTest, ATariffNotYetInForceIsRefused) {
  AdminKeys keys;
  const Tariff tariff = SignedTariff(keys);  // from 2026-04-01
  Result<FeeStatement> s = ComputeFees({}, tariff, ParseQuarter("2026Q1").value());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("takes effect on 2026-04-01"), std::string::npos);
}

// A real store with a quarter's exchanges (and one record on each side of it), pulled as
// `ipn oversight pull` does.
class FeeFromPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    quarter_ = ParseQuarter("2026Q3").value();
    auto store = Open();
    ASSERT_TRUE(store);
    const int64_t step = (quarter_.to_unix_us - quarter_.from_unix_us) / 200;
    Append(store.get(), Exchange(Event::kProvided, "A", "B-X", "I1", "before", 0),
           quarter_.from_unix_us - 5);
    for (int i = 0; i < 200; ++i) {
      const std::string inquirer = i % 3 == 0 ? "A" : "C";
      const std::string business = i % 4 == 0 ? "B-CHEAP" : "B-X";
      const Event event = i % 5 == 0 ? Event::kInquiryRefused : Event::kProvided;
      Append(store.get(), Exchange(event, inquirer, business, "I1", "q" + std::to_string(i), 0),
             quarter_.from_unix_us + i * step);
    }
    Append(store.get(), Exchange(Event::kProvided, "A", "B-X", "I1", "after", 0),
           quarter_.to_unix_us + 5);
  }

  void Append(records::RecordStore* store, Record r, int64_t time_us) {
    r.time_unix_us = time_us;
    ASSERT_TRUE(store->Append(r).ok());
    if (time_us >= quarter_.from_unix_us && time_us < quarter_.to_unix_us) in_quarter_.push_back(r);
  }

  std::unique_ptr<records::RecordStore> Open() {
    auto store = records::RecordStore::Open(keys_.Options(dir_.Sub("records")));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  PulledSet Pull(int64_t from, int64_t to, const std::string& agency = "") {
    auto store = Open();
    core::RecordAccess service(store.get(), nullptr, nullptr, nullptr, nullptr);
    PulledSet set;
    set.from_unix_us = from;
    set.to_unix_us = to;
    set.agency = agency;
    v1::RecordQuery q;
    q.set_from_unix_us(from);
    q.set_to_unix_us(to);
    q.set_agency_code(agency);
    q.set_page_size(50);
    for (int pages = 0; pages < 100; ++pages) {
      Result<v1::RecordPage> page = service.Pull(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_TRUE(AddPage(*page, &set).ok());
      if (page->next_page_token().empty()) break;
      q.set_page_token(page->next_page_token());
    }
    return set;
  }

  records::PublicKey Signer() {
    return records::SigningPublicKey(keys_.signing.signing_secret_key.span()).value();
  }

  testing::TempDir dir_;
  records::testing::TestKeys keys_;
  Quarter quarter_;
  std::vector<Record> in_quarter_;
  AdminKeys admin_;
};

TEST_F(FeeFromPullTest, AVerifiedPullGivesTheStatementOfItsRecords) {
  const Tariff tariff = SignedTariff(admin_);
  PulledSet pull = Pull(quarter_.from_unix_us, quarter_.to_unix_us);
  FeeStatement s = FeesFromPull(pull, Signer(), tariff, quarter_).value();
  // Independently: 200 exchanges, every fifth refused; A asks for i % 3 == 0.
  uint64_t a = 0, c = 0;
  int64_t sen = 0;
  for (int i = 0; i < 200; ++i) {
    if (i % 5 == 0) continue;
    (i % 3 == 0 ? a : c) += 1;
    sen += i % 4 == 0 ? 25 : 50;
  }
  EXPECT_EQ(s.chargeable_exchanges, a + c);
  EXPECT_EQ(s.chargeable_exchanges, 160u);
  EXPECT_EQ(s.total_sen, sen);
  EXPECT_EQ(s.head_tree_size, 202u);
  EXPECT_EQ(s.head_root, pull.head.root_hash);
  EXPECT_EQ(s.total_sen, ComputeFees(in_quarter_, tariff, quarter_).value().total_sen);
}

TEST_F(FeeFromPullTest, APullThatDoesNotVerifyGivesNoStatement) {
  const Tariff tariff = SignedTariff(admin_);
  PulledSet pull = Pull(quarter_.from_unix_us, quarter_.to_unix_us);
  // A record made cheaper in the pulled file: its leaf is no longer in the signed tree.
  for (PulledRecord& r : pull.records) {
    if (r.record.business == "B-X" && r.record.event == Event::kProvided) {
      r.record.business = "B-CHEAP";
      break;
    }
  }
  Result<FeeStatement> s = FeesFromPull(pull, Signer(), tariff, quarter_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kCorruption);
  EXPECT_NE(s.status().message().find("altered"), std::string::npos) << s.status().message();
  // The honest pull checked against another signer: refused too.
  records::PublicKey other{};
  other[0] = 1;
  EXPECT_FALSE(
      FeesFromPull(Pull(quarter_.from_unix_us, quarter_.to_unix_us), other, tariff, quarter_).ok());
}

TEST_F(FeeFromPullTest, APartialPullIsRefusedWithWhatItCovers) {
  const Tariff tariff = SignedTariff(admin_);
  Result<FeeStatement> filtered = FeesFromPull(
      Pull(quarter_.from_unix_us, quarter_.to_unix_us, "A"), Signer(), tariff, quarter_);
  ASSERT_FALSE(filtered.ok());
  EXPECT_NE(filtered.status().message().find("only agency A"), std::string::npos);
  Result<FeeStatement> short_pull = FeesFromPull(
      Pull(quarter_.from_unix_us, quarter_.to_unix_us - 1), Signer(), tariff, quarter_);
  ASSERT_FALSE(short_pull.ok());
  EXPECT_EQ(short_pull.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(short_pull.status().message().find("2026Q3 needs"), std::string::npos);
}

TEST_F(FeeFromPullTest, TheFeesCommandWritesTheStatementOrNothing) {
  PulledSet pull = Pull(quarter_.from_unix_us, quarter_.to_unix_us);
  std::string file = PullLine(pull);
  if (pull.before) file += RecordLine(*pull.before, "before");
  for (const PulledRecord& r : pull.records) file += RecordLine(r, "record");
  if (pull.after) file += RecordLine(*pull.after, "after");
  const std::string pull_file = dir_.Sub("q3.jsonl"), tariff = dir_.Sub("tariff.txt");
  const std::string admin_public = dir_.Sub("admin.public"), out = dir_.Sub("fees.csv");
  ASSERT_TRUE(WriteFileAtomic(pull_file, file).ok());
  ASSERT_TRUE(WriteFileAtomic(admin_public, HexEncode(admin_.pk) + "\n").ok());
  ASSERT_TRUE(WriteFileAtomic(tariff, SignTariff(kTariffText, admin_.sk).value()).ok());
  auto run = [&](const std::string& output) {
    const std::string command = ipn::testing::BinDir() + "/ipn oversight fees --input " +
                                pull_file + " --quarter 2026Q3 --tariff " + tariff +
                                " --admin-key " + admin_public + " --records-key " +
                                HexEncode(Signer()) + " --format csv --output " + output +
                                " </dev/null >" + dir_.Sub("stdout") + " 2>" + dir_.Sub("stderr");
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(run(out), 0) << ReadFile(dir_.Sub("stderr")).value();
  const FeeStatement expected =
      FeesFromPull(pull, Signer(), SignedTariff(admin_), quarter_).value();
  EXPECT_EQ(ReadFile(out).value(), FeeStatementCsv(expected));

  // The tariff raised after signing: refused, naming why, and no statement written.
  std::string text = ReadFile(tariff).value();
  text.replace(text.find("= 0.5\n"), 6, "= 5.0\n");
  ASSERT_TRUE(WriteFileAtomic(tariff, text).ok());
  const std::string refused_out = dir_.Sub("refused.csv");
  EXPECT_EQ(run(refused_out), 1);
  EXPECT_NE(ReadFile(dir_.Sub("stderr"))
                .value()
                .find("does not verify with the policy "
                      "administrator's key"),
            std::string::npos);
  EXPECT_FALSE(ReadFile(refused_out).ok());
  EXPECT_FALSE(ReadFile(refused_out + ".tmp").ok());
}

}  // namespace
}  // namespace ipn::oversight
