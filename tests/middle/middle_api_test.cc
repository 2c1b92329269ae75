// The middle server's staff and API without a network: TOTP against RFC 6238's vectors,
// accounts (password, second factor, lockout), and the HTTP/JSON API over loopback with a
// fake Inquirer — roles, tenant isolation, the audit log, bad input, and the OpenAPI
// document against the running server.
#include "middle/middle_api.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/key_custody.h"
#include "middle/accounts.h"
#include "middle/audit_log.h"
#include "middle/provided_items.h"
#include "middle/tls_ca.h"
#include "middle/totp.h"
#include "policy/demo_policy.h"
#include "tests/middle/api_fixture.h"
#include "tests/support/temp_dir.h"

namespace ipn::middle {
namespace {

TEST(MiddleTotpTest, CodesAreRfc6238sSha256Vectors) {
  const std::string key = "12345678901234567890123456789012";
  const std::span<const uint8_t> secret(reinterpret_cast<const uint8_t*>(key.data()), key.size());
  // RFC 6238 Appendix B (SHA256, 8 digits), here the last 6.
  EXPECT_EQ(TotpCode(secret, 59 / 30), "119246");
  EXPECT_EQ(TotpCode(secret, 1111111109 / 30), "084774");
  EXPECT_EQ(TotpCode(secret, 1234567890 / 30), "819424");
  EXPECT_EQ(TotpCode(secret, 2000000000 / 30), "698825");
  // One step of drift either way; never a step already used; never a wrong code.
  const int64_t now = 1234567890;
  const uint64_t step = now / 30;
  EXPECT_EQ(VerifyTotp(secret, TotpCode(secret, step), now, 0), step);
  EXPECT_EQ(VerifyTotp(secret, TotpCode(secret, step - 1), now, 0), step - 1);
  EXPECT_EQ(VerifyTotp(secret, TotpCode(secret, step + 1), now, 0), step + 1);
  EXPECT_FALSE(VerifyTotp(secret, TotpCode(secret, step - 2), now, 0));
  EXPECT_FALSE(VerifyTotp(secret, TotpCode(secret, step), now, step));
  EXPECT_FALSE(VerifyTotp(secret, "12345", now, 0));
  EXPECT_EQ(Base32(AsBytes("foobar")), "MZXW6YTBOI");  // RFC 4648 §10
  EXPECT_EQ(FromBase32("MZXW6YTBOI").value(), std::vector<uint8_t>({'f', 'o', 'o', 'b', 'a', 'r'}));
  EXPECT_FALSE(FromBase32("mzxw6ytboi").ok());
}

TEST_F(MiddleApiTest, StaffRegisterCopiesAndInquireByInternalPersonNumber) {
  auto mun = Staff(kMun, "m-");
  Json copy = {{"person", "MUNP-1"},
               {"item", "local-tax"},
               {"content", "2026 tax: 0 yen"},
               {"as_of", "2026-04-01"},
               {"non_disclosure", true}};
  EXPECT_EQ(Call("POST", "/v1/copies", mun["reg"], copy.dump())->status, 201);
  EXPECT_EQ(Call("POST", "/v1/copies", mun["reg"], copy.dump())->status, 409);
  copy["content"] = "2026 tax: 1 yen";
  auto superseded = Call("PUT", "/v1/copies", mun["reg"], copy.dump());
  EXPECT_EQ(Json::parse(superseded->body)["version"], 2);
  auto read = Call("GET", "/v1/copies?person=MUNP-1&item=local-tax", mun["reg"]);
  ASSERT_EQ(read->status, 200);
  EXPECT_EQ(Json::parse(read->body)["content"], "2026 tax: 1 yen");
  EXPECT_EQ(Json::parse(read->body)["non_disclosure"], true);
  const std::string csv =
      "person,item,content,as_of,non_disclosure\n"
      "MUNP-2,local-tax,2026 tax: 5 yen,2026-04-01,false\n"
      "MUNP-3,local-tax,2026 tax: 6 yen,2026-04-01,false\n";
  auto imported = Call("POST", "/v1/copies/import", mun["reg"], csv, "text/csv");
  ASSERT_EQ(imported->status, 200) << imported->body;
  EXPECT_EQ(Json::parse(imported->body)["rows"], 2);
  EXPECT_EQ(Call("DELETE", "/v1/copies?person=MUNP-3&item=local-tax", mun["reg"])->status, 204);
  EXPECT_EQ(store_->Find(kMun, "MUNP-3", "local-tax").status().code(), Status::Code::kNotFound);

  // The inquirer asks by its own person number; the API asks the network by the symbol.
  ASSERT_TRUE(store_->Bind(kMun, "MUNP-9", "symbol-of-9").ok());
  Json ask = {{"person", "MUNP-9"},
              {"provider", kPen},
              {"business", "pension-benefit"},
              {"item", "pension-amount"}};
  auto answered = Call("POST", "/v1/inquiries", mun["inq"], ask.dump());
  ASSERT_EQ(answered->status, 200) << answered->body;
  EXPECT_EQ(Json::parse(answered->body)["outcome"], "provided");
  EXPECT_EQ(Json::parse(answered->body)["content"], "2026 tax: 120,000 yen");
  EXPECT_EQ(
      inquirer_.asked,
      (std::vector<std::string>{"MUN-131016|symbol-of-9|PEN-0001|pension-benefit|pension-amount"}));
  ask["person"] = "MUNP-404";  // no symbol yet: nothing asked
  EXPECT_EQ(Call("POST", "/v1/inquiries", mun["inq"], ask.dump())->status, 404);
  EXPECT_EQ(inquirer_.asked.size(), 1u);

  // Everything is in the tenant's own log, in order, for its admin.
  std::vector<std::string> actions;
  for (const Json& e : AuditOf(mun["admin"])) actions.push_back(e["action"]);
  EXPECT_EQ(actions,
            (std::vector<std::string>{"create_account", "login", "create_account", "create_account",
                                      "login", "login", "register", "register", "supersede",
                                      "read_copy", "import", "delete", "inquire", "inquire"}))
      << ::testing::PrintToString(actions);
}

TEST_F(MiddleApiTest, TenantsAreIsolatedAndOperatorsReadNoCopy) {
  auto mun = Staff(kMun, "m-");
  auto pen = Staff(kPen, "p-");
  Json copy = {{"person", "PENP-1"},
               {"item", "pension-amount"},
               {"content", "MARKER-PEN"},
               {"as_of", "2026-04-01"}};
  ASSERT_EQ(Call("POST", "/v1/copies", pen["reg"], copy.dump())->status, 201);
  // MUN's registrar naming PEN: refused, in MUN's log; PEN's copy untouched.
  copy["tenant"] = kPen;
  copy["content"] = "overwritten";
  EXPECT_EQ(Call("PUT", "/v1/copies", mun["reg"], copy.dump())->status, 403);
  EXPECT_EQ(Call("GET", "/v1/copies?tenant=PEN-0001&person=PENP-1&item=pension-amount", mun["reg"])
                ->status,
            403);
  Json ask = {{"tenant", kPen},
              {"person", "PENP-1"},
              {"provider", kMun},
              {"business", "pension-benefit"},
              {"item", "local-tax"}};
  EXPECT_EQ(Call("POST", "/v1/inquiries", mun["inq"], ask.dump())->status, 403);
  // Its own tenant, it reads only its own copies: PEN's person is not there.
  EXPECT_EQ(Call("GET", "/v1/copies?person=PENP-1&item=pension-amount", mun["reg"])->status, 404);
  EXPECT_EQ(store_->Find(kPen, "PENP-1", "pension-amount")->content, "MARKER-PEN");
  // The operator: no copy, no inquiry, no registration, not even another role.
  EXPECT_EQ(Call("GET", "/v1/copies?person=PENP-1&item=pension-amount", pen["ops"])->status, 403);
  EXPECT_EQ(Call("POST", "/v1/inquiries", pen["ops"], ask.dump())->status, 403);
  Json self = {
      {"tenant", kPen}, {"account", "sneaky"}, {"roles", {"registrar"}}, {"password", kPassword}};
  EXPECT_EQ(Call("POST", "/v1/accounts", pen["ops"], self.dump())->status, 403);
  self["roles"] = {"admin"};  // a second admin of a staffed tenant: the tenant's to make
  EXPECT_EQ(Call("POST", "/v1/accounts", pen["ops"], self.dump())->status, 403);
  // A registrar is not an inquirer, an inquirer not a registrar nor an admin.
  EXPECT_EQ(Call("POST", "/v1/inquiries", pen["reg"], ask.dump())->status, 403);
  EXPECT_EQ(Call("GET", "/v1/audit", pen["inq"])->status, 403);

  const std::vector<Json> log = AuditOf(mun["admin"]);
  EXPECT_EQ(Refusals(log, "supersede"), 1);
  EXPECT_EQ(Refusals(log, "read_copy"), 2);  // PEN's by name; its own, not held
  EXPECT_EQ(Refusals(log, "inquire"), 1);
  EXPECT_EQ(Refusals(AuditOf(pen["admin"]), "inquire"), 1);  // PEN's registrar
  EXPECT_EQ(Refusals(AuditOf(pen["admin"]), "read_audit"), 1);
}

TEST_F(MiddleApiTest, StaffWithoutTheBusinessCannotInquireForIt) {
  auto mun = Staff(kMun, "m-");
  ASSERT_TRUE(store_->Bind(kMun, "MUNP-9", "symbol-of-9").ok());
  Json ask = {{"person", "MUNP-9"},
              {"provider", kPen},
              {"business", "child-allowance"},
              {"item", "pension-amount"}};
  auto refused = Call("POST", "/v1/inquiries", mun["inq"], ask.dump());
  EXPECT_EQ(refused->status, 403);
  EXPECT_NE(refused->body.find("child-allowance"), std::string::npos);
  EXPECT_TRUE(inquirer_.asked.empty());
  EXPECT_EQ(Refusals(AuditOf(mun["admin"]), "inquire"), 1);
}

TEST_F(MiddleApiTest, BadInputIsAClearErrorAndChangesNothing) {
  auto mun = Staff(kMun, "m-");
  EXPECT_EQ(Call("POST", "/v1/copies", mun["reg"], "{not json")->status, 400);
  EXPECT_EQ(Call("POST", "/v1/copies", mun["reg"], "[1,2]")->status, 400);
  Json bad = {{"person", "MUNP-1"}, {"item", "local-tax"}, {"content", "x"}, {"as_of", "April"}};
  auto dated = Call("POST", "/v1/copies", mun["reg"], bad.dump());
  EXPECT_EQ(dated->status, 400);
  EXPECT_NE(dated->body.find("YYYY-MM-DD"), std::string::npos) << dated->body;
  // A bad row anywhere: its line named, nothing of the file applied.
  const std::string csv =
      "person,item,content,as_of,non_disclosure\n"
      "MUNP-2,local-tax,ok,2026-04-01,false\n"
      "MUNP-3,local-tax,ok,2026-13-45,false\n";
  auto imported = Call("POST", "/v1/copies/import", mun["reg"], csv, "text/csv");
  EXPECT_EQ(imported->status, 400);
  EXPECT_NE(imported->body.find("line 3"), std::string::npos) << imported->body;
  EXPECT_EQ(store_->Find(kMun, "MUNP-2", "local-tax").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(Call("POST", "/v1/copies/import", mun["reg"], csv, "text/plain")->status, 415);
  const std::string huge(kMaxImportBytes + 1, 'x');
  EXPECT_EQ(Call("POST", "/v1/copies/import", mun["reg"], huge, "text/csv")->status, 413);
  // Before log-in nothing over 64 KiB is read: not as JSON, not as an import.
  const std::string big(100 * 1024, 'x');
  EXPECT_EQ(Call("POST", "/v1/session", "", big)->status, 413);
  EXPECT_EQ(Call("POST", "/v1/copies/import", "", big, "text/csv")->status, 401);
  auto not_held = Call("GET", "/v1/copies?person=MUNP-77&item=local-tax", mun["reg"]);
  EXPECT_EQ(not_held->status, 404);  // the handler's reason, not "no such path"
  EXPECT_EQ(not_held->body.find("no such path"), std::string::npos) << not_held->body;
  EXPECT_EQ(Call("GET", "/v1/audit?after=-1", mun["admin"])->status, 400);
  // Sessions: none, a made-up one, one logged out, one past its idle time.
  EXPECT_EQ(Call("POST", "/v1/copies", "", bad.dump())->status, 401);
  EXPECT_EQ(Call("POST", "/v1/copies", std::string(64, 'a'), bad.dump())->status, 401);
  const std::string inq = mun["inq"];
  EXPECT_EQ(Call("DELETE", "/v1/session", inq)->status, 204);
  EXPECT_EQ(Call("POST", "/v1/inquiries", inq, "{}")->status, 401);
  clock_.Advance(16LL * 60 * 1'000'000);
  EXPECT_EQ(Call("GET", "/v1/copies?person=MUNP-1&item=local-tax", mun["reg"])->status, 401);
  // A code used once is spent: the same code again is refused even with the password.
  const std::vector<uint8_t> secret = FromBase32(secrets_.at("m-reg")).value();
  const std::string code = TotpCode(secret, clock_.NowMicros() / 30'000'000);
  Json login = {{"tenant", kMun}, {"account", "m-reg"}, {"password", kPassword}, {"code", code}};
  EXPECT_EQ(Call("POST", "/v1/session", "", login.dump())->status, 201);
  auto replayed = Call("POST", "/v1/session", "", login.dump());
  EXPECT_EQ(replayed->status, 401);
  EXPECT_EQ(Json::parse(replayed->body)["error"], "wrong account, password or code");
  // Five failures in a row lock the account, whatever comes next.
  for (int i = 0; i < 5; ++i) {
    login["code"] = "000000";
    EXPECT_EQ(Call("POST", "/v1/session", "", login.dump())->status, 401);
  }
  login["code"] = TotpCode(secret, clock_.NowMicros() / 30'000'000 + 1);
  auto locked = Call("POST", "/v1/session", "", login.dump());
  EXPECT_EQ(locked->status, 401);
  EXPECT_NE(locked->body.find("locked"), std::string::npos) << locked->body;
  // A made-up account: the same answer, and nothing for an outsider to fill the log with.
  login["account"] = "nobody";
  auto unknown = Call("POST", "/v1/session", "", login.dump());
  EXPECT_EQ(unknown->status, 401);
  EXPECT_EQ(Json::parse(unknown->body)["error"], "wrong account, password or code");
  // The replayed code and four wrong ones (the fifth failure in a row locked the
  // account); not the attempts while locked, nor the made-up name (each costs an outsider
  // nothing, so neither may grow the log).
  EXPECT_EQ(Refusals(AuditOf(LogIn(kMun, "m-admin")), "login"), 5);
  // Still serving.
  EXPECT_EQ(Call("GET", "/v1/openapi.json", "")->status, 200);
}

// An existing system's account: an API key instead of a password and a code, the roles
// and businesses it was given and no more, and no way to log in as a person.
TEST_F(MiddleApiTest, ASystemAccountActsWithItsApiKeyOnly) {
  auto mun = Staff(kMun, "m-");
  Json spec = {{"account", "tax-system"},
               {"roles", {"inquirer"}},
               {"businesses", {"pension-benefit"}},
               {"system", true}};
  auto made = Call("POST", "/v1/accounts", mun["admin"], spec.dump());
  ASSERT_EQ(made->status, 201) << made->body;
  const std::string key = Json::parse(made->body)["api_key"];
  EXPECT_TRUE(key.starts_with("MUN-131016:tax-system:")) << key;
  EXPECT_FALSE(Json::parse(made->body).contains("totp_secret"));
  spec["account"] = "root-system";
  spec["roles"] = {"admin"};
  EXPECT_EQ(Call("POST", "/v1/accounts", mun["admin"], spec.dump())->status, 400);

  ASSERT_TRUE(store_->Bind(kMun, "MUNP-9", "symbol-of-9").ok());
  Json ask = {{"person", "MUNP-9"},
              {"provider", kPen},
              {"business", "pension-benefit"},
              {"item", "pension-amount"}};
  auto answered = Call("POST", "/v1/inquiries", key, ask.dump());
  ASSERT_EQ(answered->status, 200) << answered->body;
  EXPECT_EQ(Json::parse(answered->body)["outcome"], "provided");
  ask["business"] = "child-allowance";  // not granted
  EXPECT_EQ(Call("POST", "/v1/inquiries", key, ask.dump())->status, 403);
  Json copy = {
      {"person", "MUNP-1"}, {"item", "local-tax"}, {"content", "x"}, {"as_of", "2026-04-01"}};
  EXPECT_EQ(Call("POST", "/v1/copies", key, copy.dump())->status, 403);  // not a registrar
  std::string forged = key;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(Call("POST", "/v1/inquiries", forged, ask.dump())->status, 401);
  EXPECT_EQ(
      Call("POST", "/v1/inquiries", "MUN-131016:m-inq:" + std::string(64, '0'), ask.dump())->status,
      401);  // a person's account has no API key
  Json login = {{"tenant", kMun}, {"account", "tax-system"}, {"password", ""}, {"code", "000000"}};
  EXPECT_EQ(Call("POST", "/v1/session", "", login.dump())->status, 401);

  int by_system = 0;
  for (const Json& e : AuditOf(mun["admin"])) by_system += e["account"] == "tax-system";
  // The inquiry, the refused business, the refused registration (its refused log-in as
  // a person is not audited: a system's name costs an outsider nothing to try).
  EXPECT_EQ(by_system, 3);
}

// The audit log is a Merkle log: a kept head shows later that the log still begins with
// exactly what it covered, and a page that does not match its head is caught.
TEST_F(MiddleApiTest, TheAuditLogIsTamperEvident) {
  auto mun = Staff(kMun, "m-");
  auto read = [&] {
    auto res = Call("GET", "/v1/audit?limit=1000", mun["admin"]);
    EXPECT_EQ(res->status, 200);
    const Json body = Json::parse(res->body);
    std::vector<std::string> raw;
    for (const Json& e : body["entries"]) raw.push_back(e["raw"].get<std::string>());
    return std::pair{raw, AuditHead{body["head"]["size"].get<uint64_t>(),
                                    body["head"]["root"].get<std::string>()}};
  };
  auto prefix = [](const std::vector<std::string>& raw, uint64_t n) {
    return std::vector<std::string>(raw.begin(), raw.begin() + static_cast<long>(n));
  };
  const auto [first, kept] = read();
  ASSERT_EQ(kept.size, first.size());
  EXPECT_EQ(AuditRoot(first).root, kept.root);
  Json copy = {
      {"person", "MUNP-1"}, {"item", "local-tax"}, {"content", "x"}, {"as_of", "2026-04-01"}};
  ASSERT_EQ(Call("POST", "/v1/copies", mun["reg"], copy.dump())->status, 201);
  const auto [later, head] = read();
  EXPECT_EQ(head.size, kept.size + 2);  // the first read itself, and the registration
  EXPECT_EQ(AuditRoot(later).root, head.root);
  EXPECT_EQ(AuditRoot(prefix(later, kept.size)).root, kept.root);

  // Someone with the platform's keys rewrites entry 3 (a refusal made to look allowed).
  auto tree = store_->GetAuditTree(kMun);
  ASSERT_TRUE(tree.ok() && tree->has_value());
  Json third = Json::parse(later[2]);
  third["detail"] = "nothing to see";
  ASSERT_TRUE(store_->PutAudit(kMun, 3, third.dump(), **tree).ok());
  const auto [tampered, now] = read();
  EXPECT_NE(AuditRoot(tampered).root, now.root) << "the page no longer matches its head";
  EXPECT_NE(AuditRoot(prefix(tampered, kept.size)).root, kept.root)
      << "nor the head the admin kept";
}

// With the permitted-link list, a tenant registers copies only of the items it provides:
// anything else is refused by line, and nothing of the file is applied.
class MiddlePolicyApiTest : public MiddleApiTest {
 protected:
  void Configure(MiddleApiOptions& options) override {
    auto policy = policy::LoadDemoPolicy();
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    options.provided_items = ProvidedItemBusinesses(**policy, {kMun, kPen});
  }
};

TEST_F(MiddlePolicyApiTest, ACopyOfAnItemTheTenantDoesNotProvideIsRefused) {
  auto mun = Staff(kMun, "m-");
  Json copy = {
      {"person", "MUNP-1"}, {"item", "local-tax"}, {"content", "x"}, {"as_of", "2026-04-01"}};
  EXPECT_EQ(Call("POST", "/v1/copies", mun["reg"], copy.dump())->status, 201);
  copy["item"] = "pension-amount";  // the pension service's item, not the municipality's
  auto refused = Call("POST", "/v1/copies", mun["reg"], copy.dump());
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->body.find("not one MUN-131016 provides"), std::string::npos) << refused->body;
  const std::string csv =
      "person,item,content,as_of,non_disclosure\n"
      "MUNP-2,local-tax,ok,2026-04-01,false\n"
      "MUNP-3,no-such-item,ok,2026-04-01,false\n";
  auto imported = Call("POST", "/v1/copies/import", mun["reg"], csv, "text/csv");
  EXPECT_EQ(imported->status, 400);
  EXPECT_NE(imported->body.find("line 3: item no-such-item"), std::string::npos) << imported->body;
  EXPECT_EQ(store_->Find(kMun, "MUNP-2", "local-tax").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(Refusals(AuditOf(mun["admin"]), "register"), 1);
  EXPECT_EQ(Refusals(AuditOf(mun["admin"]), "import"), 1);
}

// The document is the contract: every documented path and method is served (never 404),
// each operation says what it answers, and anything undocumented is 404.
// A registrar whose account lists businesses registers, reads and deletes copies only of
// the items provided for one of them (the permitted-link list: np-premium-exemption asks
// the municipality for local-tax and public-assistance, never resident-record).
TEST_F(MiddlePolicyApiTest, ARegistrarOfSomeBusinessesHandlesOnlyTheirItems) {
  auto mun = Staff(kMun, "m-");
  MakeAccount(mun["admin"], "", "m-reg-np", {"registrar"}, {"np-premium-exemption"});
  const std::string reg = LogIn(kMun, "m-reg-np");
  Json copy = {{"person", "MUNP-1"},
               {"item", "public-assistance"},
               {"content", "x"},
               {"as_of", "2026-04-01"}};
  EXPECT_EQ(Call("POST", "/v1/copies", reg, copy.dump())->status, 201);
  copy["item"] = "resident-record";
  auto refused = Call("POST", "/v1/copies", reg, copy.dump());
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(Json::parse(refused->body)["error"],
            "item resident-record is provided for none of this account's businesses");
  // The tenant's all-items registrar (no businesses listed) may; the scoped one may not
  // read or delete it, nor slip it in through a file.
  EXPECT_EQ(Call("POST", "/v1/copies", mun["reg"], copy.dump())->status, 201);
  EXPECT_EQ(Call("GET", "/v1/copies?person=MUNP-1&item=resident-record", reg)->status, 403);
  EXPECT_EQ(Call("DELETE", "/v1/copies?person=MUNP-1&item=resident-record", reg)->status, 403);
  EXPECT_EQ(Call("GET", "/v1/copies?person=MUNP-1&item=public-assistance", reg)->status, 200);
  const std::string csv =
      "person,item,content,as_of,non_disclosure\n"
      "MUNP-2,local-tax,ok,2026-04-01,false\n"
      "MUNP-3,resident-record,ok,2026-04-01,false\n";
  auto imported = Call("POST", "/v1/copies/import", reg, csv, "text/csv");
  EXPECT_NE(imported->status, 200);
  EXPECT_NE(imported->body.find("line 3: item resident-record is provided for none"),
            std::string::npos)
      << imported->body;
  EXPECT_EQ(store_->Find(kMun, "MUNP-2", "local-tax").status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(store_->Find(kMun, "MUNP-1", "resident-record").ok());
  const auto log = AuditOf(mun["admin"]);
  EXPECT_EQ(Refusals(log, "register") + Refusals(log, "read_copy") + Refusals(log, "delete") +
                Refusals(log, "import"),
            4);
}

TEST_F(MiddleApiTest, TheOpenApiDocumentMatchesTheServer) {
  auto res = Call("GET", "/v1/openapi.json", "");
  ASSERT_EQ(res->status, 200);
  const Json doc = Json::parse(res->body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["info"].contains("title") && doc["info"].contains("version"));
  int operations = 0;
  for (const auto& [path, methods] : doc["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      ASSERT_TRUE(op.contains("responses") && !op["responses"].empty()) << method << " " << path;
      for (const auto& [code, response] : op["responses"].items()) {
        EXPECT_TRUE(response.contains("description")) << method << " " << path << " " << code;
      }
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(c));
      std::string concrete = path;  // a path parameter gets a well-formed value
      if (const size_t at = concrete.find("{id}"); at != std::string::npos) {
        concrete.replace(at, 4, "1");
      }
      auto got = Call(upper, concrete, "", "{}");
      ASSERT_TRUE(got) << upper << " " << path;
      EXPECT_NE(got->status, 404) << upper << " " << path;
      EXPECT_TRUE(op["responses"].contains(std::to_string(got->status)))
          << upper << " " << path << " answered " << got->status;
      ++operations;
    }
  }
  EXPECT_EQ(operations, 20);
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/"},
                                                        {"GET", "/v1/session"},
                                                        {"PUT", "/v1/inquiries"},
                                                        {"GET", "/v1/copies/import"},
                                                        {"POST", "/v1/audit"},
                                                        {"GET", "/v2/copies"},
                                                        {"DELETE", "/v1/batches/1"},
                                                        {"GET", "/v1/batches/x"},
                                                        {"GET", "/v1/batches/1/result"}}) {
    auto got = Call(method, path, "", "{}");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->status, 404) << method << " " << path;
    EXPECT_TRUE(Json::parse(got->body).contains("error"));
  }
}

}  // namespace
}  // namespace ipn::middle

namespace ipn::middle {
namespace {

// HTTPS with the platform's own CA: a client that trusts the CA gets the API; one that
// does not refuses the server; plain HTTP is refused off loopback.
TEST(MiddleTlsTest, TheApiServesHttpsWithThePlatformsOwnCa) {
  ASSERT_GE(sodium_init(), 0);
  ipn::testing::TempDir dir;
  const std::string tls = dir.Sub("tls");
  ASSERT_TRUE(InitTlsCa(tls, {"127.0.0.1", "middle.example"}, std::time(nullptr)).ok());
  EXPECT_EQ(InitTlsCa(tls, {"127.0.0.1"}, std::time(nullptr)).code(),
            Status::Code::kAlreadyExists);  // the CA's key is written once
  EXPECT_EQ(std::filesystem::status(tls + "/ca.key").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto wrapper = MakeSodiumWrapper(SecretBytes::Random(32), "file:platform.key");
  ASSERT_TRUE(wrapper.ok());
  auto store = MiddleStore::Open(dir.Sub("middle"), wrapper->get());
  ASSERT_TRUE(store.ok());
  MiddleApiOptions options;
  options.store = store->get();
  options.tls_dir = tls;
  auto api = MiddleApi::Start(options);
  ASSERT_TRUE(api.ok()) << api.status().ToString();

  httplib::SSLClient trusting("127.0.0.1", (*api)->port());
  trusting.set_ca_cert_path(TlsFilesIn(tls).ca_certificate.c_str());
  trusting.enable_server_certificate_verification(true);
  auto got = trusting.Get("/openapi.json");
  ASSERT_TRUE(got) << httplib::to_string(got.error());
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(nlohmann::json::parse(got->body)["openapi"], "3.0.3");

  ipn::testing::TempDir other;
  ASSERT_TRUE(InitTlsCa(other.Sub("tls"), {"127.0.0.1"}, std::time(nullptr)).ok());
  httplib::SSLClient wary("127.0.0.1", (*api)->port());
  wary.set_ca_cert_path(TlsFilesIn(other.Sub("tls")).ca_certificate.c_str());
  wary.enable_server_certificate_verification(true);
  EXPECT_FALSE(wary.Get("/openapi.json"));  // another CA's server: refused
  httplib::Client plain("127.0.0.1", (*api)->port());
  auto in_clear = plain.Get("/openapi.json");
  EXPECT_TRUE(!in_clear || in_clear->status != 200);

  options.tls_dir.clear();
  options.host = "0.0.0.0";
  auto open_http = MiddleApi::Start(options);
  ASSERT_FALSE(open_http.ok());
  EXPECT_NE(open_http.status().message().find("loopback"), std::string::npos);
  EXPECT_TRUE(IsLoopback("127.0.0.1") && IsLoopback("127.8.9.10") && IsLoopback("::1"));
  EXPECT_FALSE(IsLoopback("10.0.0.1") || IsLoopback("128.0.0.1") || IsLoopback("example"));
}

}  // namespace
}  // namespace ipn::middle
