// The routes an agency's existing system uses beside single inquiries, over loopback with
// a fake Inquirer: the symbol bound to a person number, the tenant's exchange log, and
// batch inquiry files (checked whole, sent in the background, resumed after a restart,
// results downloaded by the account that sent them).
#include <gtest/gtest.h>

#include <chrono>

#include "middle/audit_log.h"
#include "middle/auto_answer.h"
#include "middle/batch_inquiries.h"
#include "middle/exchange_log.h"
#include "middle/inquiry_sender.h"
#include "policy/csv.h"
#include "tests/middle/api_fixture.h"

namespace ipn::middle {
namespace {

constexpr char kBatchCsv[] =
    "person,provider,business,item\n"
    "MUNP-1,PEN-0001,pension-benefit,pension-amount\n"
    "MUNP-2,PEN-0001,pension-benefit,pension-amount\n"
    "MUNP-404,PEN-0001,pension-benefit,pension-amount\n";

class MiddleBatchTest : public MiddleApiTest {
 protected:
  // The batch's progress once it is finished; fails the test if it is not within 20 s.
  Json WaitFinished(const std::string& token, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    Json progress;
    while (std::chrono::steady_clock::now() < deadline) {
      auto res = Call("GET", "/v1/batches/" + id, token);
      if (!res || res->status != 200) {
        ADD_FAILURE() << (res ? res->body : "no reply");
        return progress;
      }
      progress = Json::parse(res->body);
      if (progress["state"] == "finished") return progress;
      std::unique_lock<std::mutex> lock(inquirer_.mu);  // woken by each inquiry asked
      inquirer_.changed.wait_for(lock, std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "batch " << id << " not finished in time: " << progress.dump();
    return progress;
  }
};

TEST_F(MiddleBatchTest, ABatchFileIsSentRowByRowAndItsResultsDownloaded) {
  auto mun = Staff(kMun, "m-");
  ASSERT_TRUE(store_->Bind(kMun, "MUNP-1", "symbol-of-1").ok());
  ASSERT_TRUE(store_->Bind(kMun, "MUNP-2", "symbol-of-2").ok());
  inquirer_.not_held.insert("symbol-of-2");
  auto made = Call("POST", "/v1/batches", mun["inq"], kBatchCsv, "text/csv");
  ASSERT_EQ(made->status, 202) << made->body;
  EXPECT_EQ(made->get_header_value("Location"), "/v1/batches/1");
  EXPECT_EQ(Json::parse(made->body)["rows"], 3);
  const Json done = WaitFinished(mun["inq"], "1");
  EXPECT_EQ(done["done"], 3);
  EXPECT_EQ(done["outcomes"], (Json{{"provided", 1}, {"not_held", 1}, {"error", 1}}));
  EXPECT_EQ(
      inquirer_.asked,
      (std::vector<std::string>{"MUN-131016|symbol-of-1|PEN-0001|pension-benefit|pension-amount",
                                "MUN-131016|symbol-of-2|PEN-0001|pension-benefit|pension-amount"}));

  auto results = Call("GET", "/v1/batches/1/results", mun["inq"]);
  ASSERT_EQ(results->status, 200) << results->body;
  EXPECT_TRUE(results->get_header_value("Content-Type").starts_with("text/csv"));
  auto table = policy::ParseCsv(results->body, "results");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->header,
            (std::vector<std::string>{"line", "person", "provider", "business", "item", "outcome",
                                      "request_id", "exchange_id", "explanation", "content"}));
  ASSERT_EQ(table->records.size(), 3u);
  const auto& r = table->records;
  EXPECT_EQ((std::vector<std::string>{r[0][0], r[0][1], r[0][5], r[0][9]}),
            (std::vector<std::string>{"2", "MUNP-1", "provided", "2026 tax: 120,000 yen"}));
  EXPECT_TRUE(r[0][6].starts_with("api-"));
  EXPECT_EQ((std::vector<std::string>{r[1][0], r[1][1], r[1][5], r[1][9]}),
            (std::vector<std::string>{"3", "MUNP-2", "not_held", ""}));
  EXPECT_EQ((std::vector<std::string>{r[2][0], r[2][1], r[2][5], r[2][6]}),
            (std::vector<std::string>{"4", "MUNP-404", "error", ""}));
  EXPECT_EQ(r[2][8], "no symbol is bound to this person number");

  // Only the account that sent the file sees it; an admin has no inquirer role.
  auto ops = LogIn(std::string(kPlatformTenant), "ops");
  MakeAccount(mun["admin"], "", "m-inq2", {"inquirer"}, {"pension-benefit"});
  const std::string other = LogIn(kMun, "m-inq2");
  EXPECT_EQ(Call("GET", "/v1/batches/1", other)->status, 404);
  EXPECT_EQ(Call("GET", "/v1/batches/1/results", other)->status, 404);
  EXPECT_EQ(Call("GET", "/v1/batches/1/results", mun["admin"])->status, 403);
  auto pen = Staff(kPen, "p-");
  EXPECT_EQ(Call("GET", "/v1/batches/1", pen["inq"])->status, 404);

  // The exchange log has both answered rows (and no content); the admin reads it all.
  auto log = Call("GET", "/v1/exchanges", mun["admin"]);
  ASSERT_EQ(log->status, 200) << log->body;
  const Json entries = Json::parse(log->body)["entries"];
  ASSERT_EQ(entries.size(), 2u) << entries.dump();
  EXPECT_EQ(entries[0]["person"], "MUNP-1");
  EXPECT_EQ(entries[0]["outcome"], "provided");
  EXPECT_EQ(entries[0]["role"], "inquirer");
  EXPECT_EQ(entries[0]["account"], "m-inq");
  EXPECT_EQ(entries[0]["batch"], "1");
  EXPECT_EQ(entries[1]["outcome"], "not_held");
  EXPECT_EQ(log->body.find("120,000"), std::string::npos);

  // Every row's inquiry is in the audit log under the sender, as a single inquiry is.
  int inquiries = 0;
  for (const Json& e : AuditOf(mun["admin"])) {
    inquiries += e["action"] == "inquire" && e["account"] == "m-inq" && e["allowed"].get<bool>();
  }
  EXPECT_EQ(inquiries, 2);
  EXPECT_EQ(Refusals(AuditOf(mun["admin"]), "inquire"), 1);  // MUNP-404: no symbol
}

TEST_F(MiddleBatchTest, ABadBatchFileIsRefusedByLineAndNothingIsKept) {
  auto mun = Staff(kMun, "m-");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"person,item\nMUNP-1,x\n", "line 1: the header must be person,provider,business,item"},
      {"person,provider,business,item\n", "the file has no rows"},
      {"person,provider,business,item\nMUNP-1,PEN-0001,pension-benefit,pension-amount\n"
       "MUNP-2,PEN-0001,pension-benefit,\n",
       "line 3: person (1–32 characters) and item (1–64) are required"},
      {"person,provider,business,item\nMUNP-1,PEN-0001,pension-benefit,pension-amount\n"
       "MUNP-2,PEN-0001,child-allowance,pension-amount\n",
       "line 3: business child-allowance is not one of this account's"},
      {"person,provider,business,item\nMUNP-1,PEN-0001,\"pension-benefit,x\n",
       ""},  // an unclosed quote: the CSV reader's own message
  };
  for (const auto& [file, why] : bad) {
    auto res = Call("POST", "/v1/batches", mun["inq"], file, "text/csv");
    ASSERT_TRUE(res);
    EXPECT_TRUE(res->status == 400 || res->status == 403) << res->status << " " << file;
    if (!why.empty()) {
      EXPECT_EQ(Json::parse(res->body)["error"], why) << file;
    }
  }
  std::string rows = "person,provider,business,item\n";
  for (size_t i = 0; i <= kMaxBatchRows; ++i) {
    rows += "MUNP-" + std::to_string(i) + ",PEN-0001,pension-benefit,pension-amount\n";
  }
  EXPECT_EQ(Call("POST", "/v1/batches", mun["inq"], rows, "text/csv")->status, 429);
  EXPECT_EQ(
      Call("POST", "/v1/batches", mun["inq"], std::string(kMaxBatchBytes + 1, 'x'), "text/csv")
          ->status,
      413);
  EXPECT_EQ(Call("POST", "/v1/batches", mun["inq"], kBatchCsv, "application/json")->status, 415);
  EXPECT_EQ(Call("POST", "/v1/batches", mun["reg"], kBatchCsv, "text/csv")->status, 403);
  EXPECT_EQ(Call("POST", "/v1/batches", "", kBatchCsv, "text/csv")->status, 401);
  // Nothing was kept, nothing asked; the server still answers.
  EXPECT_EQ(Call("GET", "/v1/batches/1", mun["inq"])->status, 404);
  EXPECT_TRUE(inquirer_.asked.empty());
  EXPECT_EQ(store_->LastOrdered(MiddleStore::Ordered::kBatch, kMun, "").value(), std::nullopt);
  EXPECT_EQ(store_->LastOrdered(MiddleStore::Ordered::kBatchLine, kMun, "").value(), std::nullopt);
  EXPECT_EQ(Refusals(AuditOf(mun["admin"]), "submit_batch"), 8);
}

TEST_F(MiddleBatchTest, SymbolsAndTheExchangeLogAreTheTenantsOwn) {
  auto mun = Staff(kMun, "m-");
  auto pen = Staff(kPen, "p-");
  ASSERT_TRUE(store_->Bind(kMun, "MUNP-1", std::string("\x01\xfe", 2)).ok());
  auto got = Call("GET", "/v1/symbols?person=MUNP-1", mun["inq"]);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(Json::parse(got->body)["symbol"], "01fe");
  EXPECT_EQ(Call("GET", "/v1/symbols?person=MUNP-1", mun["reg"])->status, 200);
  EXPECT_EQ(Call("GET", "/v1/symbols?person=MUNP-2", mun["inq"])->status, 404);
  EXPECT_EQ(Call("GET", "/v1/symbols?person=MUNP-1", mun["admin"])->status, 403);
  EXPECT_EQ(Call("GET", "/v1/symbols?person=MUNP-1", pen["inq"])->status, 404);  // its own map
  EXPECT_EQ(Call("GET", "/v1/symbols?person=MUNP-1&tenant=MUN-131016", pen["inq"])->status, 403);
  EXPECT_EQ(Call("GET", "/v1/exchanges?tenant=MUN-131016", pen["admin"])->status, 403);

  // A provision answered from copies is logged for the provider, the asker named.
  ExchangeLog log(store_.get(), &clock_);
  Copy copy{"MUNP-1", "local-tax", "2026 tax: 0 yen", "2026-04-01", false, 0};
  ASSERT_TRUE(store_->Register(kMun, copy).ok());
  v1::ForwardedInquiry f;
  f.set_provider_symbol(std::string("\x01\xfe", 2));
  f.set_inquirer_code(kPen);
  f.set_business_code("pension-benefit");
  f.set_item_code("local-tax");
  f.set_exchange_id("x-7");
  EXPECT_EQ(AutoAnswer(*store_, kMun, f, &log).outcome(), v1::OUTCOME_PROVIDED);
  f.set_item_code("income");
  EXPECT_EQ(AutoAnswer(*store_, kMun, f, &log).outcome(), v1::OUTCOME_NOT_HELD);
  auto entries = log.List(kMun, 0, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].role, "provider");
  EXPECT_EQ((*entries)[0].person, "MUNP-1");
  EXPECT_EQ((*entries)[0].peer, kPen);
  EXPECT_EQ((*entries)[0].outcome, "provided");
  EXPECT_EQ((*entries)[0].exchange_id, "x-7");
  EXPECT_EQ((*entries)[1].seq, 2u);
  EXPECT_EQ((*entries)[1].outcome, "not_held");
  // The API's reader sees them; an inquirer only its businesses' entries.
  auto read = Call("GET", "/v1/exchanges", mun["inq"]);
  ASSERT_EQ(read->status, 200);
  EXPECT_EQ(Json::parse(read->body)["entries"].size(), 2u);  // pension-benefit is its own
  MakeAccount(mun["admin"], "", "m-inq3", {"inquirer"}, {"child-allowance"});
  read = Call("GET", "/v1/exchanges", LogIn(kMun, "m-inq3"));
  EXPECT_EQ(Json::parse(read->body)["entries"].size(), 0u);
  EXPECT_EQ(Json::parse(read->body)["next_after"], 2);
  EXPECT_EQ(log.List(kPen, 0, 10)->size(), 0u);  // the other tenant's log is its own
}

TEST_F(MiddleBatchTest, TheAdminSetsTheItemsAnsweredByHand) {
  auto mun = Staff(kMun, "m-");
  auto set = Call("PUT", "/v1/by-hand", mun["admin"], R"({"items":["local-tax"]})");
  ASSERT_EQ(set->status, 200) << set->body;
  EXPECT_EQ(store_->ByHandItems(kMun).value(), std::set<std::string>{"local-tax"});
  auto read = Call("GET", "/v1/by-hand", mun["admin"]);
  ASSERT_EQ(read->status, 200);
  EXPECT_EQ(Json::parse(read->body)["items"], Json::array({"local-tax"}));
  EXPECT_EQ(Call("PUT", "/v1/by-hand", mun["reg"], R"({"items":[]})")->status, 403);
  EXPECT_EQ(Call("PUT", "/v1/by-hand", mun["admin"], R"({"items":"local-tax"})")->status, 400);
  EXPECT_EQ(Call("PUT", "/v1/by-hand", mun["admin"], R"({"items":["bad item"]})")->status, 400);
  EXPECT_EQ(
      Call("PUT", "/v1/by-hand", mun["admin"], R"({"items":["x"],"tenant":"PEN-0001"})")->status,
      403);
  EXPECT_EQ(store_->ByHandItems(kMun).value(), std::set<std::string>{"local-tax"});
  const auto log = AuditOf(mun["admin"]);
  EXPECT_EQ(Refusals(log, "set_by_hand"), 3);  // registrar, bad item, other tenant
}

// A file accepted just before the platform stopped is sent when it starts again; a
// finished one is not sent twice.
TEST(MiddleBatchRestartTest, AFileAcceptedBeforeAStopIsFinishedAfterTheRestart) {
  ASSERT_GE(sodium_init(), 0);
  ipn::testing::TempDir dir;
  auto platform = MakeSodiumWrapper(SecretBytes::Random(32), "file:platform.key").value();
  ManualClock clock(1'790'000'000'000'000);
  Account who{kMun, "m-inq", {"inquirer"}, {"pension-benefit"}, false};
  FakeInquirer inquirer;
  {
    auto store = MiddleStore::Open(dir.Sub("middle"), platform.get()).value();
    ASSERT_TRUE(store->CreateTenant(kMun).ok());
    ASSERT_TRUE(store->Bind(kMun, "MUNP-1", "symbol-of-1").ok());
    ASSERT_TRUE(store->Bind(kMun, "MUNP-2", "symbol-of-2").ok());
    AuditLog audit(store.get(), &clock);
    InquirySender sender(store.get(), &audit, nullptr, &inquirer, nullptr);
    BatchInquiries stopped(store.get(), &sender, &clock, nullptr);  // never started
    auto made = stopped.Submit(who, kBatchCsv);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    EXPECT_EQ(made->id, 1u);
    EXPECT_EQ(stopped.Progress(who, 1)->done, 0u);
  }
  EXPECT_TRUE(inquirer.asked.empty());
  for (int restart = 0; restart < 2; ++restart) {
    auto store = MiddleStore::Open(dir.Sub("middle"), platform.get()).value();
    AuditLog audit(store.get(), &clock);
    InquirySender sender(store.get(), &audit, nullptr, &inquirer, nullptr);
    BatchInquiries batches(store.get(), &sender, &clock, nullptr);
    ASSERT_TRUE(batches.Start().ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!batches.Progress(who, 1)->finished() && std::chrono::steady_clock::now() < deadline) {
      std::unique_lock<std::mutex> lock(inquirer.mu);
      inquirer.changed.wait_for(lock, std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(batches.Progress(who, 1)->finished()) << "restart " << restart;
    EXPECT_EQ(batches.Progress(who, 1)->outcomes,
              (std::map<std::string, size_t>{{"provided", 2}, {"error", 1}}));
    EXPECT_EQ(inquirer.asked.size(), 2u) << "restart " << restart;  // never twice
  }
}

}  // namespace
}  // namespace ipn::middle
