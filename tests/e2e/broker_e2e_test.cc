// End-to-end tests of the broker: the core, interface nodes and demo agency systems run
// as real processes on loopback, with real RocksDB stores in a temporary directory.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/curve_keys.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "ipn/v1/wire_names.h"
#include "records/record.h"
#include "symbol/symbol_types.h"
#include "tests/e2e/e2e_fixture.h"

namespace ipn::testing {
namespace {

constexpr const char* kReg = "REG-0001";
constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";
constexpr const char* kIns = "INS-0001";
constexpr const char* kLab = "LAB-0001";

std::vector<records::Record> ForRequest(const std::vector<records::Record>& all,
                                        const std::string& inquirer, const std::string& id) {
  std::vector<records::Record> out;
  for (const auto& r : all) {
    if (r.inquirer == inquirer && r.request_id == id) out.push_back(r);
  }
  return out;
}

std::multiset<records::Event> Events(const std::vector<records::Record>& rs) {
  std::multiset<records::Event> out;
  for (const auto& r : rs) out.insert(r.event);
  return out;
}

// Finds a person the demo dataset holds `item` for at `provider` (about 9 in 10 are).
struct Person {
  std::string code;
  std::vector<uint8_t> at_inquirer;
};

TEST(BrokerE2eTest, LawfulInquiryDeliversTheAnswerAndLeavesFourRecords) {
  E2eNetwork n({kReg, kMun, kPen});
  ASSERT_FALSE(::testing::Test::HasFailure());
  // Several people, so at least one is held by the provider's demo dataset.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> people;
  std::vector<std::string> refs;
  for (int i = 0; i < 4; ++i) {
    std::string code = ResidentCodeFrom("12345678" + std::to_string(10 + i));
    std::string ref = "ref-" + std::to_string(i);
    n.IssueSymbol(kMun, code, ref);
    people.emplace_back("lawful-" + std::to_string(i), n.IssueSymbol(kPen, code, ref));
    refs.push_back(ref);
  }
  std::string provided_id;
  std::vector<uint8_t> provided_symbol;
  for (size_t i = 0; i < people.size(); ++i) {
    const auto& [id, symbol] = people[i];
    ASSERT_EQ(symbol.size(), 50u);
    auto reply = n.Inquire(kPen, symbol, "np-benefit", kMun, "local-tax", id);
    // The demo dataset decides what the provider holds: the outcome is exact.
    const demo::DatasetAnswer expected = n.Expected(kMun, refs[i], "local-tax");
    ASSERT_EQ(reply.outcome, expected.held ? v1::OUTCOME_PROVIDED : v1::OUTCOME_NOT_HELD)
        << reply.explanation;
    EXPECT_EQ(reply.payload, expected.held ? expected.content : "");
    EXPECT_EQ(reply.provider, kMun);
    EXPECT_EQ(reply.exchange_id.size(), 32u) << "the core names the exchange";
    if (reply.outcome == v1::OUTCOME_PROVIDED && provided_id.empty()) {
      provided_id = id;
      provided_symbol = symbol;
    }
  }
  ASSERT_FALSE(provided_id.empty()) << "the dataset holds none of these four: pick others";

  // The core's health and metrics endpoint counts what happened.
  httplib::Client http("127.0.0.1", n.net().core_metrics_port());
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("ipn_core_outcomes_total{outcome=\"provided\"}"), std::string::npos);
  auto health = http.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_NE(health->body.find("\"ok\""), std::string::npos);

  auto all = n.StopAndReadRecords();
  auto mine = ForRequest(all, kPen, provided_id);
  EXPECT_EQ(Events(mine), (std::multiset<records::Event>{
                              records::Event::kInquiryAccepted, records::Event::kForwarded,
                              records::Event::kProvided, records::Event::kReceived}));
  // All four are filed under the person's record symbol, and name the exchange.
  auto record_symbol = n.RecordSymbolOf(provided_symbol, kPen);
  for (const auto& r : mine) {
    EXPECT_EQ(r.record_symbol, record_symbol);
    EXPECT_EQ(r.provider, kMun);
    EXPECT_EQ(r.business, "np-benefit");
    EXPECT_EQ(r.item, "local-tax");
  }
}

TEST(BrokerE2eTest, EachRefusalIsAnsweredWithItsReasonAndRecorded) {
  E2eNetwork n({kReg, kMun, kPen, kIns}, {kLab});
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("2222333344");
  auto mun = n.IssueSymbol(kMun, code, "p1");
  auto ins = n.IssueSymbol(kIns, code, "p1");
  std::vector<uint8_t> forged(50);
  randombytes_buf(forged.data(), forged.size());
  std::vector<uint8_t> altered = mun;
  altered[20] ^= 0x01;

  struct Case {
    std::string id, inquirer;
    std::vector<uint8_t> symbol;
    std::string business, provider, item;
    v1::DenyReason reason;
    v1::Outcome outcome;
  };
  std::vector<Case> cases = {
      {"no-link", kIns, ins, "health-insurance-benefit", kPen, "pension",
       v1::DENY_REASON_NO_SUCH_LINK, v1::OUTCOME_REFUSED},
      {"suspended", kMun, mun, "public-assistance", kLab, "employment-insurance",
       v1::DENY_REASON_PROVIDER_NOT_ACTIVE, v1::OUTCOME_REFUSED},
      {"expired", kMun, mun, "child-allowance", kPen, "pension",
       v1::DENY_REASON_OUTSIDE_EFFECTIVE_PERIOD, v1::OUTCOME_REFUSED},
      {"unknown-item", kMun, mun, "nhi-benefit", kIns, "no-such-item", v1::DENY_REASON_UNKNOWN_ITEM,
       v1::OUTCOME_REFUSED},
      {"unknown-business", kMun, mun, "no-such-business", kIns, "medical-insurance",
       v1::DENY_REASON_UNKNOWN_BUSINESS, v1::OUTCOME_REFUSED},
      {"unknown-provider", kMun, mun, "nhi-benefit", "XYZ-0000", "medical-insurance",
       v1::DENY_REASON_UNKNOWN_PROVIDER, v1::OUTCOME_REFUSED},
      {"forged", kMun, forged, "nhi-benefit", kIns, "medical-insurance",
       v1::DENY_REASON_INVALID_SYMBOL, v1::OUTCOME_REFUSED},
      {"altered", kMun, altered, "nhi-benefit", kIns, "medical-insurance",
       v1::DENY_REASON_INVALID_SYMBOL, v1::OUTCOME_REFUSED},
      {"other-agency", kMun, ins, "nhi-benefit", kIns, "medical-insurance",
       v1::DENY_REASON_INVALID_SYMBOL, v1::OUTCOME_REFUSED},
      {"not-issued", kMun, mun, "public-assistance", kPen, "pension",
       v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER, v1::OUTCOME_NOT_HELD},
  };
  for (const Case& c : cases) {
    auto reply = n.Inquire(c.inquirer, c.symbol, c.business, c.provider, c.item, c.id);
    EXPECT_EQ(reply.outcome, c.outcome) << c.id;
    EXPECT_EQ(reply.deny_reason, c.reason) << c.id << ": " << reply.explanation;
    EXPECT_FALSE(reply.explanation.empty()) << c.id;
    EXPECT_TRUE(reply.payload.empty()) << c.id;
  }
  auto all = n.StopAndReadRecords();
  auto person = n.RecordSymbolOf(mun, kMun);
  for (const Case& c : cases) {
    auto rs = ForRequest(all, c.inquirer, c.id);
    ASSERT_EQ(rs.size(), 1u) << c.id;
    std::string reason(v1::DenyReasonName(c.reason));
    EXPECT_EQ(rs[0].outcome, reason) << c.id;
    EXPECT_EQ(rs[0].event, c.reason == v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER
                               ? records::Event::kNotHeld
                               : records::Event::kInquiryRefused)
        << c.id;
    // A refusal about a genuine symbol is filed under the person, so they can see it.
    if (c.id == "suspended" || c.id == "expired" || c.id == "not-issued") {
      EXPECT_EQ(rs[0].record_symbol, person) << c.id;
    }
  }
}

TEST(BrokerE2eTest, UnregisteredAndSuspendedKeysCannotConnect) {
  E2eNetwork n({kReg, kMun}, {kLab});
  ASSERT_FALSE(::testing::Test::HasFailure());
  // A key the directory does not hold.
  CurveKeyPair stranger = CurveKeyPair::Generate();
  const std::string stranger_key = n.dir() + "/stranger.key";
  ASSERT_TRUE(stranger.SaveFile(stranger_key).ok());
  auto node = n.net().StartNodeProcess(kMun, stranger_key, "stranger");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto exit_code = node->Wait(std::chrono::seconds(20));
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 3) << "a node with an unregistered key must be refused";

  // The suspended agency's own, registered key.
  CurveKeyPair lab = CurveKeyPair::Generate();
  const std::string lab_key = n.dir() + "/lab.key";
  ASSERT_TRUE(lab.SaveFile(lab_key).ok());
  auto lab_node = n.net().StartNodeProcess(kLab, lab_key, "lab");
  ASSERT_TRUE(lab_node.ok());
  auto lab_exit = lab_node->Wait(std::chrono::seconds(20));
  ASSERT_TRUE(lab_exit.ok());
  EXPECT_EQ(*lab_exit, 3);

  // The refusal is logged by the core as evidence.
  auto log = ReadFile(n.net().CoreLogPath());
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("connection_refused"), std::string::npos);
}

TEST(BrokerE2eTest, KilledProviderYieldsARecordedEndAndTheCoreKeepsServing) {
  E2eNetwork n({kReg, kMun, kPen, kIns}, {}, "", /*deadline_s=*/1.0);
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("5555666677");
  auto mun = n.IssueSymbol(kMun, code, "p");
  n.IssueSymbol(kPen, code, "p");
  n.IssueSymbol(kIns, code, "p");

  // The provider's agency system is gone, its node still up: the node finds no serving
  // system and the exchange fails at once, recorded.
  n.net().KillAgencyProgram(kPen);
  auto orphan = n.Inquire(kMun, mun, "public-assistance", kPen, "pension", "orphan");
  EXPECT_EQ(orphan.outcome, v1::OUTCOME_FAILED) << orphan.explanation;
  // An unreachable provider: its node is gone. Whether the core's socket has noticed by
  // the time the inquiry comes (unreachable at once) or not (the forward is lost and the
  // deadline ends it) depends on the kernel's timing; both are definite and recorded.
  n.net().KillNode(kPen);
  auto gone = n.Inquire(kMun, mun, "public-assistance", kPen, "pension", "gone");
  EXPECT_TRUE(gone.outcome == v1::OUTCOME_UNREACHABLE || gone.outcome == v1::OUTCOME_TIMED_OUT)
      << gone.explanation;
  // Others are still served, exactly as the dataset says.
  auto other = n.Inquire(kMun, mun, "nhi-benefit", kIns, "medical-insurance", "other");
  EXPECT_EQ(other.outcome, n.ExpectedOutcome(kIns, "p", "medical-insurance")) << other.explanation;

  auto all = n.StopAndReadRecords();
  auto orphan_records = ForRequest(all, kMun, "orphan");
  EXPECT_EQ(
      Events(orphan_records),
      (std::multiset<records::Event>{records::Event::kInquiryAccepted, records::Event::kForwarded,
                                     records::Event::kFailed, records::Event::kReceived}));
  auto gone_records = ForRequest(all, kMun, "gone");
  EXPECT_EQ(Events(gone_records).count(records::Event::kTimedOut), 1u);
  auto other_records = ForRequest(all, kMun, "other");
  EXPECT_EQ(other_records.size(), 4u);
}

TEST(BrokerE2eTest, DuplicateRequestIdGivesOneRecordSet) {
  E2eNetwork n({kReg, kMun, kPen});
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("7777888899");
  n.IssueSymbol(kMun, code, "p");
  auto pen = n.IssueSymbol(kPen, code, "p");
  auto first = n.Inquire(kPen, pen, "np-benefit", kMun, "local-tax", "same-id");
  EXPECT_EQ(first.outcome, n.ExpectedOutcome(kMun, "p", "local-tax"));
  auto second = n.Inquire(kPen, pen, "np-benefit", kMun, "local-tax", "same-id");
  EXPECT_EQ(second.outcome, v1::OUTCOME_REFUSED);
  EXPECT_EQ(second.deny_reason, v1::DENY_REASON_DUPLICATE_REQUEST);
  auto all = n.StopAndReadRecords();
  // The exchange's four records, and the repeat in the pension service's aggregate of
  // refusals filed under no person.
  const auto records = ForRequest(all, kPen, "same-id");
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(std::count_if(records.begin(), records.end(),
                          [](const records::Record& r) {
                            return r.event == records::Event::kInquiryRefused &&
                                   r.outcome.rfind("DUPLICATE_REQUEST count=1 last=same-id ", 0) ==
                                       0;
                          }),
            1);
}

TEST(BrokerE2eTest, NoAnswerContentOrResidentCodeInAnyFileOrLog) {
  const std::string marker = "ZQX-MARKER-5f1e";
  std::vector<std::string> codes;
  {
    E2eNetwork n({kReg, kMun, kPen, kIns}, {}, marker);
    ASSERT_FALSE(::testing::Test::HasFailure());
    int provided = 0, expected_provided = 0;
    for (int i = 0; i < 12; ++i) {
      codes.push_back(ResidentCodeFrom("31415926" + std::to_string(10 + i)));
      const std::string ref = "m" + std::to_string(i);
      auto mun = n.IssueSymbol(kMun, codes.back(), ref);
      n.IssueSymbol(kPen, codes.back(), ref);
      n.IssueSymbol(kIns, codes.back(), ref);
      auto a = n.Inquire(kMun, mun, "public-assistance", kPen, "pension");
      auto b = n.Inquire(kMun, mun, "nhi-benefit", kIns, "medical-insurance");
      expected_provided += n.Expected(kPen, ref, "pension").held;
      expected_provided += n.Expected(kIns, ref, "medical-insurance").held;
      for (auto* r : {&a, &b}) {
        if (r->outcome == v1::OUTCOME_PROVIDED) {
          ++provided;
          EXPECT_NE(r->payload.find(marker), std::string::npos);
        }
      }
    }
    ASSERT_GT(expected_provided, 0);
    EXPECT_EQ(provided, expected_provided);
    n.StopAndReadRecords();
    // Every file the core, the nodes and the agencies left, logs included.
    auto files = ListFilesRecursively(n.dir());
    ASSERT_GT(files.size(), 10u);
    EXPECT_EQ(FilesContaining(n.dir(), marker), std::vector<std::string>{});
    for (const std::string& code : codes) {
      EXPECT_EQ(FilesContaining(n.dir(), code), std::vector<std::string>{});
    }
  }
}

// `ipn inquire` with a batch file: every row answered, in input order, bad rows refused
// before anything is sent.
TEST(BrokerE2eTest, InquireCommandRunsABatchFile) {
  E2eNetwork n({kReg, kMun, kPen});
  ASSERT_FALSE(::testing::Test::HasFailure());
  std::string input = "symbol,business,provider,item\n";
  for (int i = 0; i < 40; ++i) {
    const std::string code = ResidentCodeFrom("60000000" + std::to_string(10 + i));
    n.IssueSymbol(kMun, code, "b" + std::to_string(i));
    auto pen = n.IssueSymbol(kPen, code, "b" + std::to_string(i));
    symbol::AgencySymbol s;
    std::copy(pen.begin(), pen.end(), s.bytes.begin());
    input += s.ToPrintable() + ",np-benefit,MUN-131016,local-tax,fiscal_year=2025\n";
  }
  input += "not-a-symbol,np-benefit,MUN-131016,local-tax\n";
  ASSERT_TRUE(WriteFileAtomic(n.dir() + "/bad.csv", input).ok());
  const std::string ipn = BinDir() + "/ipn";
  const std::string node = n.net().LocalEndpoint(kPen);
  std::string bad_cmd = ipn + " inquire --node " + node + " --input " + n.dir() +
                        "/bad.csv --output " + n.dir() + "/bad-out.csv 2>/dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(bad_cmd.c_str())), 2);
  EXPECT_FALSE(std::filesystem::exists(n.dir() + "/bad-out.csv"));

  input.resize(input.rfind("not-a-symbol"));
  ASSERT_TRUE(WriteFileAtomic(n.dir() + "/in.csv", input).ok());
  std::string cmd = ipn + " inquire --node " + node + " --input " + n.dir() + "/in.csv --output " +
                    n.dir() + "/out.csv --window 8 2>/dev/null";
  ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
  auto out = ReadFile(n.dir() + "/out.csv");
  ASSERT_TRUE(out.ok());
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(*out);
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 41u);
  EXPECT_EQ(lines[0], "line,outcome,reason,provider,answer,explanation");
  for (int i = 1; i <= 40; ++i) {
    EXPECT_EQ(lines[i].rfind(std::to_string(i + 1) + ",", 0), 0u) << lines[i];
    EXPECT_TRUE(lines[i].find(",PROVIDED,") != std::string::npos ||
                lines[i].find(",NOT_HELD,") != std::string::npos)
        << lines[i];
  }
}

// The main job: `ipn demo --json` runs the whole scripted network and says what happened.
TEST(BrokerE2eTest, DemoRunsToCompletionAndSummarises) {
  TempDir dir;
  const std::string cmd = BinDir() + "/ipn demo --json --count 40 --data-dir " + dir.Sub("demo") +
                          " > " + dir.Sub("summary.json") + " 2>" + dir.Sub("demo.err");
  ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
  auto text = ReadFile(dir.Sub("summary.json"));
  ASSERT_TRUE(text.ok());
  auto j = nlohmann::json::parse(*text);
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["residents"].get<int>(), 40);
  EXPECT_GT(j["records"].get<int>(), 100);
  std::map<std::string, int> outcomes;
  for (const auto& s : j["scenarios"]) {
    for (const auto& [k, v] : s["outcomes"].items()) outcomes[k] += v.get<int>();
  }
  EXPECT_GT(outcomes["PROVIDED"], 0);
  EXPECT_GT(outcomes["REFUSED: NO_SUCH_LINK"], 0);
  EXPECT_GT(outcomes["REFUSED: PROVIDER_NOT_ACTIVE"], 0);
  EXPECT_GT(outcomes["REFUSED: INVALID_SYMBOL"], 0);
  EXPECT_GT(outcomes["NOT_HELD: NOT_ISSUED_TO_PROVIDER"], 0);
  EXPECT_GT(outcomes["UNREACHABLE"] + outcomes["TIMED_OUT"], 0);
  // --data-dir keeps every process's logs.
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("demo/core/core.log")));

  // The municipality and the pension service ran no program of their own: one middle-server
  // platform served both, from copies registered from a file.
  const nlohmann::json& m = j["middle"];
  EXPECT_EQ(m["other_programs"].get<int>(), 0);
  EXPECT_GT(m["copies_imported"]["MUN-131016"].get<int>(), 0);
  EXPECT_GT(m["copies_imported"]["PEN-0001"].get<int>(), 0);
  auto copies = ReadFile(dir.Sub("demo/copies/MUN-131016.csv"));
  ASSERT_TRUE(copies.ok());
  EXPECT_EQ(copies->find("\nP100001,"), std::string::npos) << "resident #2 has no copy";
  const nlohmann::json& mun = m["answers"]["MUN-131016"];
  EXPECT_GT(mun["provided"].get<int>(), 0);
  EXPECT_GT(mun["non_disclosure"].get<int>(), 0);
  EXPECT_GT(mun["not_held"].get<int>(), 0);
  EXPECT_EQ(mun["failed"].get<int>(), 0);
  EXPECT_GT(m["answers"]["PEN-0001"]["provided"].get<int>(), 0);
  EXPECT_EQ(m["answers"]["PEN-0001"]["failed"].get<int>(), 0);
  // Every answer the inquirers had from the two came from the platform: their count, the
  // provision records' and the platform's own agree.
  int told = 0;
  for (const auto& s : j["scenarios"]) {
    if (s["provider"] != "MUN-131016" && s["provider"] != "PEN-0001") continue;
    told += s["outcomes"].value("PROVIDED", 0) + s["outcomes"].value("NOT_HELD", 0);
  }
  EXPECT_GT(told, 0);
  EXPECT_EQ(m["answered"].get<int>(), told);
  EXPECT_EQ(m["platform_answered"].get<int>(), told);
}

}  // namespace
}  // namespace ipn::testing
