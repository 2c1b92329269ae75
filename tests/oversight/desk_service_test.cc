// The desk (oversight/desk_service.h, desk_server.h) over a real core record store holding
// a deterministic quarter (tests/oversight/desk_world.h), pulled through the core's
// RecordAccess: its figures equal those of a full verified pull of the same log per agency,
// business, outcome and month; each planted anomaly is raised by exactly its records, whose
// proofs check against the desk's head; a record changed in the core's store before the
// desk saw it is refused with a finding and the figures stay; the fee statement equals the
// one from the full pull; and over HTTP, nothing is shown without a session and every view
// is in the audit log first.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/record_access.h"
#include "oversight/desk_server.h"
#include "oversight/pull_verifier.h"
#include "oversight/pulled_set.h"
#include "policy/demo_policy.h"
#include "records/record_cipher.h"
#include "records/record_codec.h"
#include "tests/oversight/desk_world.h"
#include "tests/records/record_test_util.h"
#include "tests/support/temp_dir.h"

namespace ipn::oversight {
namespace {

using records::Record;

class Source : public RecordSource {
 public:
  explicit Source(records::RecordStore* store)
      : access_(store, nullptr, nullptr, nullptr, nullptr) {}
  Result<v1::RecordPage> Query(const v1::RecordQuery& q) override {
    return access_.SequencePull(q);
  }
  core::RecordAccess access_;
};

class DeskServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    world_ = testing::MakeDeskWorld();
    OpenCore();
    for (Record r : world_.records) ASSERT_TRUE(core_->Append(r).ok());
    records_key_ = records::SigningPublicKey(keys_.signing.signing_secret_key.span()).value();
    DeskStoreOptions so;
    so.dir = dir_.Sub("desk");
    so.data_key = SecretBytes::Random(32);
    so.records_key = records_key_;
    store_ = DeskStore::Open(std::move(so)).value();
    cases_ = DeskCases::Open(dir_.Sub("cases.json")).value();
    crypto_sign_keypair(admin_pk_.data(), admin_sk_.data());
    tariff_ = ParseSignedTariff(SignTariff(testing::kDeskTariffText, admin_sk_).value(), admin_pk_)
                  .value();
    policy_ = policy::LoadDemoPolicy().value();
    DeskServiceOptions o;
    o.store = store_.get();
    o.source = source_.get();
    o.cases = cases_.get();
    o.clock = &clock_;
    o.hours = DeclaredHours(*policy_);
    o.anomaly_lookback_us = 100 * 86'400'000'000LL;
    o.tariff = tariff_;
    service_ = std::make_unique<DeskService>(std::move(o));
  }

  void OpenCore() {
    core_ = records::RecordStore::Open(keys_.Options(dir_.Sub("core"))).value();
    source_ = std::make_unique<Source>(core_.get());
  }

  // A full pull of the whole log, verified as `ipn oversight verify` does.
  PulledSet FullPull() {
    core::RecordAccess access(core_.get(), nullptr, nullptr, nullptr, nullptr);
    PulledSet set;
    set.from_unix_us = 1'767'193'200'000'000;  // 2026-01-01 JST
    set.to_unix_us = 1'798'729'200'000'000;    // 2027-01-01 JST
    v1::RecordQuery q;
    q.set_from_unix_us(set.from_unix_us);
    q.set_to_unix_us(set.to_unix_us);
    q.set_page_size(1000);
    for (;;) {
      v1::RecordPage page = access.Pull(q).value();
      EXPECT_TRUE(AddPage(page, &set).ok());
      if (page.next_page_token().empty()) break;
      q.set_page_token(page.next_page_token());
    }
    const PullVerifyReport report = VerifyPulledSet(set, records_key_);
    EXPECT_TRUE(report.findings.empty());
    return set;
  }

  // month|inquirer|business|event → count, from the desk's monthly view.
  std::map<std::string, uint64_t> DeskMonthly() {
    std::map<std::string, uint64_t> m;
    const std::vector<VolumeRow> rows = store_->Volumes({Granularity::kMonth, "", "", ""}).value();
    for (const VolumeRow& v : rows) {
      m[v.period + "|" + v.inquirer + "|" + v.business + "|" + records::EventName(v.event)] +=
          v.count;
    }
    return m;
  }

  testing::DeskWorld world_;
  ipn::testing::TempDir dir_;
  records::testing::TestKeys keys_;
  std::unique_ptr<records::RecordStore> core_;
  std::unique_ptr<Source> source_;
  records::PublicKey records_key_{};
  std::unique_ptr<DeskStore> store_;
  std::unique_ptr<DeskCases> cases_;
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> admin_pk_{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> admin_sk_{};
  Tariff tariff_;
  std::shared_ptr<const policy::Policy> policy_;
  ManualClock clock_{1'800'000'000'000'000};
  std::unique_ptr<DeskService> service_;
};

// JST "YYYY-MM" of a time.
std::string JstMonth(int64_t t) {
  const int64_t days = (t / 1'000'000 + 9 * 3600) / 86400;
  const CivilDate d = CivilFromDays(days);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04lld-%02u", static_cast<long long>(d.year), d.month);
  return buf;
}

TEST_F(DeskServiceTest, TheDesksFiguresEqualAFullVerifiedPull) {
  PullRound round = service_->PullNow().value();
  EXPECT_EQ(round.added, world_.records.size());
  std::map<std::string, uint64_t> expected;
  for (const PulledRecord& p : FullPull().records) {
    const Record& r = p.record;
    expected[JstMonth(r.time_unix_us) + "|" + r.inquirer + "|" + r.business + "|" +
             records::EventName(r.event)]++;
  }
  EXPECT_EQ(expected.size(), 3u * 5 * 6);  // 3 months, 5 (agency, business) pairs, 6 events
  EXPECT_EQ(DeskMonthly(), expected);
}

TEST_F(DeskServiceTest, EachPlantedAnomalyIsRaisedByExactlyItsRecordsWithProofs) {
  ASSERT_TRUE(service_->PullNow().ok());
  const std::vector<DeskCase> all = cases_->List(std::nullopt);
  ASSERT_EQ(all.size(), 3u);
  for (const testing::PlantedFlag* f : {&world_.volume, &world_.person_focus, &world_.off_hours}) {
    SCOPED_TRACE(f->rule);
    auto it = std::find_if(all.begin(), all.end(), [&](const DeskCase& c) {
      return c.anomaly.rule == f->rule && c.anomaly.agency == f->agency;
    });
    ASSERT_NE(it, all.end());
    EXPECT_EQ(it->anomaly.sequences, f->sequences);
    EXPECT_EQ(it->status, CaseStatus::kOpen);
    FlagDetail d = service_->Flag(it->id, 2000).value();
    ASSERT_EQ(d.records.size(), f->sequences.size());
    EXPECT_EQ(d.head.tree_size, world_.records.size());
    for (size_t i = 0; i < d.records.size(); ++i) {
      EXPECT_EQ(d.records[i].sequence, f->sequences[i]);
      const std::string leaf = records::EncodeLeaf(d.records[i]);
      EXPECT_TRUE(records::VerifyInclusion(
          records::LeafHash({reinterpret_cast<const uint8_t*>(leaf.data()), leaf.size()}),
          d.records[i].sequence, d.head.tree_size, d.proofs[i], d.head.root_hash));
    }
  }
  EXPECT_EQ(world_.volume.sequences.size(), 80u);
  EXPECT_EQ(world_.person_focus.sequences.size(), 12u);
  EXPECT_EQ(world_.off_hours.sequences.size(), 3u);
}

// The default lookback (8 days) on a first pull of the whole quarter: the rules run over it
// in slices, each with the lookback before it, and raise the same three flags.
TEST_F(DeskServiceTest, AFirstPullOfAQuarterWithTheDefaultLookbackRaisesTheSameFlags) {
  DeskServiceOptions o;
  o.store = store_.get();
  o.source = source_.get();
  o.cases = cases_.get();
  o.clock = &clock_;
  o.hours = DeclaredHours(*policy_);
  service_ = std::make_unique<DeskService>(std::move(o));
  ASSERT_TRUE(service_->PullNow().ok());
  std::map<std::string, std::vector<uint64_t>> flags;
  for (const DeskCase& c : cases_->List(std::nullopt)) flags[c.anomaly.rule] = c.anomaly.sequences;
  EXPECT_EQ(flags, (std::map<std::string, std::vector<uint64_t>>{
                       {"volume", world_.volume.sequences},
                       {"person_focus", world_.person_focus.sequences},
                       {"off_hours", world_.off_hours.sequences}}));
}

TEST_F(DeskServiceTest, ARecordChangedBeforeTheDeskSawItIsAFindingAndTheFiguresStay) {
  ASSERT_TRUE(service_->PullNow().ok());
  const std::map<std::string, uint64_t> before = DeskMonthly();
  const std::vector<Record> more =
      testing::MoreExchanges(world_.records.back().time_unix_us, 5, world_.records.size());
  for (Record r : more) ASSERT_TRUE(core_->Append(r).ok());
  // An insider rewrites the last new record in the core's store.
  const uint64_t seq = more.back().sequence;
  source_.reset();
  core_.reset();
  {
    auto raw = records::testing::OpenRaw(dir_.Sub("core"));
    ASSERT_TRUE(raw);
    Record changed = more.back();
    changed.outcome = "NO_SUCH_LINK";
    std::string body;
    records::AppendBody(changed, body);
    std::vector<std::pair<uint32_t, SecretBytes>> ks;
    ks.emplace_back(1, keys_.encryption_key.Clone());
    records::RecordCipher cipher = std::move(records::RecordCipher::Create(std::move(ks))).value();
    rocksdb::WriteBatch b;
    b.Put(raw->records(), records::SequenceKey(seq),
          cipher.Seal(seq, changed.time_unix_us, changed.record_symbol, body));
    ASSERT_TRUE(raw->db->Write(rocksdb::WriteOptions(), &b).ok());
  }
  OpenCore();
  DeskServiceOptions o;  // the service again, over the reopened core
  o.store = store_.get();
  o.source = source_.get();
  o.cases = cases_.get();
  o.clock = &clock_;
  service_ = std::make_unique<DeskService>(std::move(o));
  Result<PullRound> refused = service_->PullNow();
  EXPECT_EQ(refused.status().code(), Status::Code::kCorruption);
  const std::vector<DeskFinding> findings = store_->Findings().value();
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, "inconsistent");
  EXPECT_EQ(findings[0].head_size, world_.records.size() + more.size());
  EXPECT_EQ(store_->size(), world_.records.size());
  EXPECT_EQ(DeskMonthly(), before);
  EXPECT_FALSE(service_->last_pull()->ok);
}

TEST_F(DeskServiceTest, TheFeeStatementEqualsTheOneFromAFullVerifiedPull) {
  ASSERT_TRUE(service_->PullNow().ok());
  const Quarter q3 = ParseQuarter("2026Q3").value();
  const FeeStatement expected = FeesFromPull(FullPull(), records_key_, tariff_, q3).value();
  const DeskFees fees = service_->Fees("2026Q3").value();
  ASSERT_EQ(fees.statement.lines.size(), expected.lines.size());
  for (size_t i = 0; i < expected.lines.size(); ++i) {
    EXPECT_EQ(fees.statement.lines[i].inquirer, expected.lines[i].inquirer);
    EXPECT_EQ(fees.statement.lines[i].business, expected.lines[i].business);
    EXPECT_EQ(fees.statement.lines[i].exchanges, expected.lines[i].exchanges);
    EXPECT_EQ(fees.statement.lines[i].amount_sen, expected.lines[i].amount_sen);
  }
  EXPECT_EQ(fees.statement.total_sen, expected.total_sen);
  EXPECT_EQ(fees.statement.chargeable_exchanges, expected.chargeable_exchanges);
  EXPECT_EQ(fees.statement.head_tree_size, world_.records.size());
  // Every provided exchange once: the one provided twice is charged once.
  uint64_t provided = 0;
  std::set<std::string> seen;
  for (const Record& r : world_.records) {
    if (r.event == records::Event::kProvided && seen.insert(r.inquirer + r.request_id).second)
      ++provided;
  }
  EXPECT_EQ(fees.statement.chargeable_exchanges, provided);
  EXPECT_EQ(FeeStatementCsv(fees.statement), FeeStatementCsv(expected));
  EXPECT_TRUE(fees.complete);  // the core signed its head after the quarter's end
}

TEST_F(DeskServiceTest, OverHttpNothingIsShownWithoutASessionAndEveryViewIsAuditedFirst) {
  ASSERT_TRUE(service_->PullNow().ok());
  const SecretBytes totp = SecretBytes::Random(20);
  const std::string password = "a long enough password";
  std::vector<Investigator> accounts =
      ParseInvestigators(InvestigatorLine("inspector", password, totp.span()).value()).value();
  SystemClock wall;  // the one-time codes are computed from real time
  DeskAuth auth(std::move(accounts), &wall);
  auto audit = DeskAudit::Open(dir_.Sub("audit.log"), 1 << 20, &wall).value();
  std::unique_ptr<Logger> log = Logger::Null();
  DeskServerOptions o;
  o.service = service_.get();
  o.auth = &auth;
  o.audit = audit.get();
  o.names = policy_;
  o.records_key = records_key_;
  o.logger = log.get();
  o.clock = &wall;
  auto server = DeskServer::Open(std::move(o)).value();
  ASSERT_TRUE(server->Start().ok());
  httplib::Client http("127.0.0.1", server->port());

  auto unauth = http.Get("/api/volumes");
  ASSERT_TRUE(unauth);
  EXPECT_EQ(unauth->status, 401);
  // Another site's name resolved to 127.0.0.1 (DNS rebinding) is not this desk.
  auto rebound =
      http.Post("/api/login", {{"Host", "desk.attacker.example"}}, "{}", "application/json");
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 421);
  const uint64_t step = static_cast<uint64_t>(wall.NowMicros() / kTotpStepUs);
  auto wrong = http.Post(
      "/api/login",
      nlohmann::json{
          {"name", "inspector"}, {"password", password}, {"code", TotpCode(totp.span(), step + 7)}}
          .dump(),
      "application/json");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto form = http.Post("/api/login", "name=inspector", "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);
  auto ok = http.Post(
      "/api/login",
      nlohmann::json{
          {"name", "inspector"}, {"password", password}, {"code", TotpCode(totp.span(), step + 1)}}
          .dump(),
      "application/json");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  const std::string page_half = nlohmann::json::parse(ok->body)["session"];
  const std::string cookie = ok->get_header_value("Set-Cookie");
  ASSERT_NE(cookie.find("HttpOnly"), std::string::npos);
  const std::string cookie_half = cookie.substr(13, cookie.find(';') - 13);
  const httplib::Headers both = {{"X-Desk-Session", page_half},
                                 {"Cookie", "desk_session=" + cookie_half}};
  EXPECT_EQ(http.Get("/api/summary", {{"X-Desk-Session", page_half}})->status, 401);
  EXPECT_EQ(http.Get("/api/summary", {{"Cookie", "desk_session=" + cookie_half}})->status, 401);

  const uint64_t entries = audit->entries();
  auto volumes = http.Get("/api/volumes?granularity=month&group_by=inquirer", both);
  ASSERT_EQ(volumes->status, 200);
  uint64_t total = 0;
  const nlohmann::json rows = nlohmann::json::parse(volumes->body)["rows"];
  for (const auto& row : rows) total += row["count"].get<uint64_t>();
  EXPECT_EQ(total, world_.records.size());
  EXPECT_EQ(http.Get("/api/volumes?granularity=week", both)->status, 400);
  EXPECT_EQ(audit->entries(), entries + 2);
  EXPECT_EQ(audit->Recent(1)[0].detail, "/api/volumes?granularity=week");
  EXPECT_EQ(audit->Recent(2)[1].who, "inspector");

  auto list = http.Get("/api/anomalies?status=open", both);
  ASSERT_EQ(list->status, 200);
  const nlohmann::json flags = nlohmann::json::parse(list->body)["anomalies"];
  ASSERT_EQ(flags.size(), 3u);
  const std::string id = flags[0]["id"];
  auto detail = http.Get("/api/anomalies/" + id, both);
  ASSERT_EQ(detail->status, 200);
  const nlohmann::json d = nlohmann::json::parse(detail->body);
  EXPECT_EQ(d["records"].size(), flags[0]["records"].get<size_t>());
  EXPECT_FALSE(d["records"][0]["inclusion_path"].empty());
  EXPECT_EQ(http.Post("/api/anomalies/" + id + "/status", both, "status=closed",
                      "application/x-www-form-urlencoded")
                ->status,
            415);
  EXPECT_EQ(http.Post("/api/anomalies/" + id + "/status", both, R"({"status":"closed"})",
                      "application/json")
                ->status,
            400);
  auto set = http.Post("/api/anomalies/" + id + "/status", both,
                       R"({"status":"closed","note":"explained by a school's annual check"})",
                       "application/json");
  ASSERT_EQ(set->status, 200);
  EXPECT_EQ(nlohmann::json::parse(set->body)["updated_by"], "inspector");
  EXPECT_EQ(cases_->Get(id).value().status, CaseStatus::kClosed);
  auto csv = http.Get("/api/fees.csv?quarter=2026Q3", both);
  ASSERT_EQ(csv->status, 200);
  EXPECT_EQ(csv->body, FeeStatementCsv(service_->Fees("2026Q3").value().statement));
  EXPECT_EQ(http.Get("/api/fees?quarter=2026Q5", both)->status, 400);

  ASSERT_EQ(http.Post("/api/logout", both, "{}", "application/json")->status, 200);
  EXPECT_EQ(http.Get("/api/summary", both)->status, 401);
  server->Stop();
}

}  // namespace
}  // namespace ipn::oversight
