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
  void Configure(MiddleApiOptions& options) override {
    exchanges_ = std::make_unique<ExchangeLog>(store_.get(), &clock_);
    options.exchanges = exchanges_.get();
  }
  std::unique_ptr<ExchangeLog> exchanges_;
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
  EXPECT_EQ(done["outcomes"], (Json{{"provided", 1}, {"not_held", 1}, {"not_sent", 1}}));
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
            (std::vector<std::string>{"4", "MUNP-404", "not_sent", ""}));
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

  // The exchange log has both answered rows (and no content); the admin reads it all, the
  // sender its own inquiries, other staff none of them.
  auto own = Call("GET", "/v1/exchanges", mun["inq"]);
  EXPECT_EQ(Json::parse(own->body)["entries"].size(), 2u);
  auto others = Call("GET", "/v1/exchanges", other);
  EXPECT_EQ(Json::parse(others->body)["entries"].size(), 0u);
  EXPECT_EQ(Json::parse(others->body)["next_after"], 2);
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
    EXPECT_EQ(res->status, why.find("is not one of") != std::string::npos ? 403 : 400) << file;
    if (!why.empty()) {
      EXPECT_EQ(Json::parse(res->body)["error"], why) << file;
    }
  }
  std::string rows = "person,provider,business,item\n";
  for (size_t i = 0; i <= kMaxBatchRows; ++i) {
    rows += "MUNP-" + std::to_string(i) + ",PEN-0001,pension-benefit,pension-amount\n";
  }
  auto too_many = Call("POST", "/v1/batches", mun["inq"], rows, "text/csv");
  EXPECT_EQ(too_many->status, 400);
  EXPECT_EQ(Json::parse(too_many->body)["error"], "a batch file has at most 10000 rows");
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

  // A provision answered from copies is logged for the provider, the asker named (the
  // log is the API's own, as the platform shares it in ipn-middle).
  ExchangeLog& log = *exchanges_;
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
  // The admin reads them through the API; an inquirer does not (which of its persons other
  // agencies asked about is not every clerk's to see).
  auto read = Call("GET", "/v1/exchanges", mun["admin"]);
  ASSERT_EQ(read->status, 200);
  EXPECT_EQ(Json::parse(read->body)["entries"].size(), 2u);
  EXPECT_EQ(Json::parse(read->body)["entries"][0]["peer"], kPen);
  read = Call("GET", "/v1/exchanges", mun["inq"]);
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

// Answers the first `free` inquiries at once, then holds each until released.
class GatedInquirer : public FakeInquirer {
 public:
  explicit GatedInquirer(size_t free) : free_(free) {}
  Result<InquiryAnswer> Inquire(const std::string& tenant, const std::string& symbol,
                                const std::string& provider, const std::string& business,
                                const std::string& item, const std::string& request_id) override {
    auto answer = FakeInquirer::Inquire(tenant, symbol, provider, business, item, request_id);
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [&] { return released_ || asked.size() <= free_; });
    return answer;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    released_ = true;
    changed.notify_all();
  }
  // Waits (20 s at most) until `n` inquiries were asked.
  bool WaitAsked(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, std::chrono::seconds(20), [&] { return asked.size() >= n; });
  }

 private:
  size_t free_;
  bool released_ = false;
};

// A platform stopped in the middle of a file resumes it at its first row without a result
// when it starts again: the row done before is not asked again, the row that was out is.
TEST(MiddleBatchRestartTest, AStoppedFileResumesAtItsFirstRowWithoutAResult) {
  ASSERT_GE(sodium_init(), 0);
  ipn::testing::TempDir dir;
  auto platform = MakeSodiumWrapper(SecretBytes::Random(32), "file:platform.key").value();
  ManualClock clock(1'790'000'000'000'000);
  Account who{kMun, "m-inq", {"inquirer"}, {"pension-benefit"}, false};
  const std::string csv =
      "person,provider,business,item\n"
      "MUNP-1,PEN-0001,pension-benefit,pension-amount\n"
      "MUNP-2,PEN-0001,pension-benefit,pension-amount\n"
      "MUNP-3,PEN-0001,pension-benefit,pension-amount\n";
  auto symbol_of = [](const std::string& line) { return line.substr(11, line.find('|', 11) - 11); };
  {
    GatedInquirer inquirer(/*free=*/1);
    auto store = MiddleStore::Open(dir.Sub("middle"), platform.get()).value();
    ASSERT_TRUE(store->CreateTenant(kMun).ok());
    for (int i = 1; i <= 3; ++i) {
      const std::string n = std::to_string(i);
      ASSERT_TRUE(store->Bind(kMun, "MUNP-" + n, "symbol-of-" + n).ok());
    }
    AuditLog audit(store.get(), &clock);
    InquirySender sender(store.get(), &audit, nullptr, &inquirer, nullptr);
    BatchInquiries batches(store.get(), &sender, &clock, nullptr);
    ASSERT_TRUE(batches.Start().ok());
    ASSERT_TRUE(batches.Submit(who, csv).ok());
    ASSERT_TRUE(inquirer.WaitAsked(2));  // row 1 answered, row 2 out
    batches.Stop();
    inquirer.Release();
    // ~BatchInquiries waits for row 2's inquiry; its result is not kept.
    EXPECT_EQ(symbol_of(inquirer.asked[0]), "symbol-of-1");
    EXPECT_EQ(symbol_of(inquirer.asked[1]), "symbol-of-2");
  }
  FakeInquirer inquirer;
  auto store = MiddleStore::Open(dir.Sub("middle"), platform.get()).value();
  AuditLog audit(store.get(), &clock);
  InquirySender sender(store.get(), &audit, nullptr, &inquirer, nullptr);
  BatchInquiries batches(store.get(), &sender, &clock, nullptr);
  EXPECT_EQ(batches.Progress(who, 1)->done, 1u);
  ASSERT_TRUE(batches.Start().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!batches.Progress(who, 1)->finished() && std::chrono::steady_clock::now() < deadline) {
    std::unique_lock<std::mutex> lock(inquirer.mu);
    inquirer.changed.wait_for(lock, std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(batches.Progress(who, 1)->finished());
  ASSERT_EQ(inquirer.asked.size(), 2u);
  EXPECT_EQ(symbol_of(inquirer.asked[0]), "symbol-of-2");
  EXPECT_EQ(symbol_of(inquirer.asked[1]), "symbol-of-3");
  EXPECT_EQ(batches.Progress(who, 1)->outcomes, (std::map<std::string, size_t>{{"provided", 3}}));
  // A second submission while none runs gets the next number; the first stays readable.
  auto next = batches.Submit(who, csv);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, 2u);
  EXPECT_TRUE(batches.Results(who, 1).ok());
}

// The worker takes tenants in turn, then each one's files in turn: a tenant with three
// files gets no more turns than one with a single file while both have rows waiting.
TEST(MiddleBatchTurnTest, TenantsTakeTurnsWhateverTheirNumberOfFiles) {
  ASSERT_GE(sodium_init(), 0);
  ipn::testing::TempDir dir;
  auto platform = MakeSodiumWrapper(SecretBytes::Random(32), "file:platform.key").value();
  ManualClock clock(1'790'000'000'000'000);
  auto store = MiddleStore::Open(dir.Sub("middle"), platform.get()).value();
  FakeInquirer inquirer;
  AuditLog audit(store.get(), &clock);
  InquirySender sender(store.get(), &audit, nullptr, &inquirer, nullptr);
  BatchInquiries batches(store.get(), &sender, &clock, nullptr);
  // Tenant A sends files 1, 2 and 3, tenant B file 1; two rows each, persons "F-ROW".
  for (const auto& [tenant, files] : {std::pair{std::string("TEN-A"), 3}, {"TEN-B", 1}}) {
    ASSERT_TRUE(store->CreateTenant(tenant).ok());
    Account who{tenant, "inq", {"inquirer"}, {"pension-benefit"}, false};
    for (int f = 1; f <= files; ++f) {
      std::string csv = "person,provider,business,item\n";
      for (int row = 1; row <= 2; ++row) {
        const std::string person = std::to_string(f) + "-" + std::to_string(row);
        ASSERT_TRUE(store->Bind(tenant, person, tenant.substr(4) + person).ok());
        csv += person + ",PEN-0001,pension-benefit,pension-amount\n";
      }
      ASSERT_TRUE(batches.Submit(who, csv).ok());  // queued; the worker starts below
    }
  }
  ASSERT_TRUE(batches.Start().ok());
  {
    std::unique_lock<std::mutex> lock(inquirer.mu);
    ASSERT_TRUE(inquirer.changed.wait_for(lock, std::chrono::seconds(20),
                                          [&] { return inquirer.asked.size() == 8; }));
  }
  std::vector<std::string> order;  // the symbol asked: tenant letter, file, row
  for (const std::string& line : inquirer.asked) {
    order.push_back(line.substr(6, line.find('|', 6) - 6));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"A1-1", "B1-1", "A2-1", "B1-2", "A3-1", "A1-2", "A2-2",
                                             "A3-2"}));
}

}  // namespace
}  // namespace ipn::middle
