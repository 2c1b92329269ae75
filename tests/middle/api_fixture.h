// The middle server's API over loopback with a fake Inquirer: a store, the platform's
// operator, helpers to make tenants with staff and to call the API as them.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/encoding.h"
#include "common/key_custody.h"
#include "middle/accounts.h"
#include "middle/middle_api.h"
#include "middle/totp.h"
#include "tests/support/temp_dir.h"

namespace ipn::middle {

using Json = nlohmann::json;
inline constexpr char kMun[] = "MUN-131016";
inline constexpr char kPen[] = "PEN-0001";
inline constexpr char kPassword[] = "correct horse battery";

// Answers every inquiry "provided"; `not_held` names symbols it answers "not held" for.
class FakeInquirer : public Inquirer {
 public:
  Result<InquiryAnswer> Inquire(const std::string& tenant, const std::string& symbol,
                                const std::string& provider, const std::string& business,
                                const std::string& item, const std::string& request_id) override {
    EXPECT_TRUE(request_id.starts_with("api-")) << request_id;
    std::lock_guard<std::mutex> lock(mu);
    asked.push_back(tenant + "|" + symbol + "|" + provider + "|" + business + "|" + item);
    changed.notify_all();
    if (not_held.count(symbol) != 0) return InquiryAnswer{"not_held", "", "", "x-1"};
    return InquiryAnswer{"provided", "", "2026 tax: 120,000 yen", "x-1"};
  }
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::string> asked;
  std::set<std::string> not_held;
};

class MiddleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    auto w = MakeSodiumWrapper(SecretBytes::Random(32), "file:platform.key");
    ASSERT_TRUE(w.ok());
    platform_ = std::move(*w);
    auto opened = MiddleStore::Open(dir_.Sub("middle"), platform_.get());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->CreateTenant(std::string(kPlatformTenant)).ok());
    Accounts direct(store_.get(), &clock_);
    auto op = direct.Create({std::string(kPlatformTenant), "ops", {"operator"}, {}}, kPassword);
    ASSERT_TRUE(op.ok()) << op.status().ToString();
    secrets_["ops"] = op->totp_secret;
    MiddleApiOptions options;
    options.store = store_.get();
    options.inquirer = &inquirer_;
    options.clock = &clock_;
    Configure(options);
    auto api = MiddleApi::Start(options);
    ASSERT_TRUE(api.ok()) << api.status().ToString();
    api_ = std::move(*api);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", api_->port());
  }

  virtual void Configure(MiddleApiOptions&) {}

  // The code for `account` now; the clock then moves a step on, so each code is fresh.
  std::string Code(const std::string& account) {
    const std::vector<uint8_t> secret = FromBase32(secrets_.at(account)).value();
    const std::string code = TotpCode(secret, clock_.NowMicros() / 30'000'000);
    clock_.Advance(30'000'000);
    return code;
  }
  httplib::Result Call(const std::string& method, const std::string& path, const std::string& token,
                       const std::string& body = "", const std::string& type = "application/json") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    if (method == "GET") return http_->Get(path, headers);
    if (method == "DELETE") return http_->Delete(path, headers, body, type);
    if (method == "PUT") return http_->Put(path, headers, body, type);
    return http_->Post(path, headers, body, type);
  }
  std::string LogIn(const std::string& tenant, const std::string& account) {
    Json body = {
        {"tenant", tenant}, {"account", account}, {"password", kPassword}, {"code", Code(account)}};
    auto res = Call("POST", "/v1/session", "", body.dump());
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no reply");
    return res && res->status == 201 ? Json::parse(res->body)["token"].get<std::string>() : "";
  }
  void MakeAccount(const std::string& token, const std::string& tenant, const std::string& name,
                   const std::vector<std::string>& roles,
                   const std::vector<std::string>& businesses = {}) {
    Json body = {
        {"account", name}, {"roles", roles}, {"businesses", businesses}, {"password", kPassword}};
    if (!tenant.empty()) body["tenant"] = tenant;
    auto res = Call("POST", "/v1/accounts", token, body.dump());
    ASSERT_TRUE(res && res->status == 201) << (res ? res->body : "no reply");
    secrets_[name] = Json::parse(res->body)["totp_secret"].get<std::string>();
  }
  // A tenant with an admin, a registrar and an inquirer (for local-tax): their tokens.
  std::map<std::string, std::string> Staff(const std::string& tenant, const std::string& p) {
    const std::string ops = LogIn(std::string(kPlatformTenant), "ops");
    EXPECT_EQ(Call("POST", "/v1/tenants", ops, Json{{"tenant", tenant}}.dump())->status, 201);
    MakeAccount(ops, tenant, p + "admin", {"admin"});
    const std::string admin = LogIn(tenant, p + "admin");
    MakeAccount(admin, "", p + "reg", {"registrar"});
    MakeAccount(admin, "", p + "inq", {"inquirer"}, {"pension-benefit"});
    return {{"ops", ops},
            {"admin", admin},
            {"reg", LogIn(tenant, p + "reg")},
            {"inq", LogIn(tenant, p + "inq")}};
  }
  std::vector<Json> AuditOf(const std::string& admin) {
    auto res = Call("GET", "/v1/audit?limit=1000", admin);
    EXPECT_EQ(res->status, 200) << res->body;
    const Json body = Json::parse(res->body);  // kept: a range over a temporary's member dangles
    std::vector<Json> out;
    for (const Json& e : body["entries"]) out.push_back(e);
    return out;
  }
  static int Refusals(const std::vector<Json>& log, const std::string& action) {
    int n = 0;
    for (const Json& e : log) n += e["action"] == action && !e["allowed"].get<bool>();
    return n;
  }

  ipn::testing::TempDir dir_;
  ManualClock clock_{1'790'000'000'000'000};
  std::unique_ptr<KeyWrapper> platform_;
  std::unique_ptr<MiddleStore> store_;
  FakeInquirer inquirer_;
  std::unique_ptr<MiddleApi> api_;
  std::unique_ptr<httplib::Client> http_;
  std::map<std::string, std::string> secrets_;
};

}  // namespace ipn::middle
