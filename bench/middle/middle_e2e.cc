// The middle-server platform on a whole network, HTTP API against SDK (see middle_e2e.h).
#include "bench/middle/middle_e2e.h"

#include <httplib.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "interface/agency_client.h"
#include "middle/totp.h"
#include "symbol/resident_code.h"
#include "tools/localnet/child_process.h"
#include "tools/localnet/local_network.h"

namespace ipn::bench {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
constexpr char kMun[] = "MUN-131016";
constexpr char kPen[] = "PEN-0001";
constexpr char kPassword[] = "bench password, long enough";
constexpr int kPeople = 50;

double Micros(SteadyClock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// A valid resident code: ten random digits and their check digit (11 digits in all).
std::string RandomCode() {
  std::string code;
  for (int i = 0; i < 10; ++i) code.push_back(static_cast<char>('0' + randombytes_uniform(10)));
  code.push_back(symbol::ResidentCodeCheckDigit(std::span<const char, 10>(code.data(), 10)));
  return code;
}

class Api {
 public:
  explicit Api(int port) : http_("127.0.0.1", port) {
    http_.set_keep_alive(true);
    http_.set_tcp_nodelay(true);  // as any latency-minded client does (curl sets it by default)
  }
  Result<Json> Post(const std::string& path, const std::string& token, const std::string& body,
                    int expect, const std::string& type = "application/json") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto res = http_.Post(path, headers, body, type);
    if (!res) return Status::Unavailable(path + ": " + httplib::to_string(res.error()));
    if (res->status != expect) {
      return Status::Internal(path + " answered " + std::to_string(res->status) + ": " + res->body);
    }
    return Json::parse(res->body, nullptr, false);
  }
  Result<std::string> LogIn(const std::string& tenant, const std::string& account,
                            const std::string& secret) {
    auto key = middle::FromBase32(secret);
    if (!key.ok()) return key.status();
    const Json body = {
        {"tenant", tenant},
        {"account", account},
        {"password", kPassword},
        {"code", middle::TotpCode(*key, static_cast<uint64_t>(std::time(nullptr)) / 30)}};
    auto got = Post("/v1/session", "", body.dump(), 201);
    if (!got.ok()) return got.status();
    return (*got)["token"].get<std::string>();
  }
  Result<std::string> Account(const std::string& token, Json spec) {
    spec["password"] = kPassword;
    auto got = Post("/v1/accounts", token, spec.dump(), 201);
    if (!got.ok()) return got.status();
    return (*got)["totp_secret"].get<std::string>();
  }

 private:
  httplib::Client http_;
};

#define BENCH_ASSIGN(lhs, expr)               \
  auto lhs##_r = (expr);                      \
  if (!lhs##_r.ok()) return lhs##_r.status(); \
  auto lhs = std::move(*lhs##_r)

}  // namespace

Result<MiddleE2eFigures> MeasureMiddleE2e(const std::string& bin_dir, const std::string& work_dir,
                                          int samples) {
  localnet::LocalNetworkOptions options;
  options.data_dir = work_dir + "/net";
  options.bin_dir = bin_dir;
  options.agencies = {{"REG-0001", true, false}, {kMun, true, false}, {kPen, true, false}};
  options.provider_deadline_s = 10;
  options.rate_per_second = 1e6;  // measure the path, not the demo's rate limits
  BENCH_ASSIGN(net, localnet::LocalNetwork::Start(options));
  const std::string dir = work_dir + "/middle";
  const std::string made = work_dir + "/operator.json";
  const std::string cmd = "IPN_MIDDLE_PASSWORD='" + std::string(kPassword) + "' " + bin_dir +
                          "/ipn-middle operator --dir " + dir + " --name ops > " + made +
                          " 2>&1 </dev/null";
  if (std::system(cmd.c_str()) != 0) return Status::Internal("ipn-middle operator failed");
  BENCH_ASSIGN(op_text, ReadFile(made));
  const std::string ops_secret = Json::parse(op_text)["totp_secret"].get<std::string>();
  BENCH_ASSIGN(middle, localnet::ChildProcess::Start(
                           {bin_dir + "/ipn-middle", "serve", "--dir", dir, "--tenant",
                            std::string(kMun) + "=" + net->LocalEndpoint(kMun), "--tenant",
                            std::string(kPen) + "=" + net->LocalEndpoint(kPen), "--api",
                            "127.0.0.1:0", "--log", dir + "/middle.log"},
                           {}, dir + "/middle.stderr"));
  BENCH_ASSIGN(ready, middle.WaitReady(std::chrono::seconds(30)));
  Api api(std::stoi(ready.at("api_port")));
  BENCH_ASSIGN(ops, api.LogIn("_platform", "ops", ops_secret));
  BENCH_ASSIGN(mun_admin_secret,
               api.Account(ops, {{"tenant", kMun}, {"account", "m-admin"}, {"roles", {"admin"}}}));
  BENCH_ASSIGN(pen_admin_secret,
               api.Account(ops, {{"tenant", kPen}, {"account", "p-admin"}, {"roles", {"admin"}}}));
  BENCH_ASSIGN(mun_admin, api.LogIn(kMun, "m-admin", mun_admin_secret));
  BENCH_ASSIGN(pen_admin, api.LogIn(kPen, "p-admin", pen_admin_secret));
  BENCH_ASSIGN(reg_secret,
               api.Account(mun_admin, {{"account", "m-reg"}, {"roles", {"registrar"}}}));
  BENCH_ASSIGN(clerk_secret, api.Account(pen_admin, {{"account", "p-clerk"},
                                                     {"roles", {"inquirer"}},
                                                     {"businesses", {"np-benefit"}}}));
  BENCH_ASSIGN(reg, api.LogIn(kMun, "m-reg", reg_secret));
  BENCH_ASSIGN(clerk, api.LogIn(kPen, "p-clerk", clerk_secret));
  std::string csv = "person,item,content,as_of,non_disclosure\n";
  for (int i = 0; i < kPeople; ++i) {
    csv += "MUNP-" + std::to_string(i) + ",local-tax,2026 municipal tax of person " +
           std::to_string(i) + ": 120000 yen,2026-04-01,false\n";
  }
  BENCH_ASSIGN(imported, api.Post("/v1/copies/import", reg, csv, 200, "text/csv"));

  // Symbols: the registry issues both agencies one per person; the SDK client on the
  // pension service's node learns its own (the platform binds them in the person map).
  BENCH_ASSIGN(registry, interface::AgencyClient::Connect(net->LocalEndpoint("REG-0001")));
  BENCH_ASSIGN(sdk, interface::AgencyClient::Connect(net->LocalEndpoint(kPen)));
  std::map<std::string, std::vector<uint8_t>> symbols;  // PENP-i -> symbol
  int responses = 0;
  interface::AgencyClient::Callbacks reg_cb, sdk_cb;
  reg_cb.on_issue_response = [&](const v1::IssueSymbolResponse&) { ++responses; };
  sdk_cb.on_symbol = [&](interface::IssuedSymbol s) { symbols[s.person_ref] = s.symbol; };
  for (int i = 0; i < kPeople; ++i) {
    std::string code = RandomCode();
    IPN_RETURN_IF_ERROR(registry->RequestSymbol(kMun, "MUNP-" + std::to_string(i), code,
                                                registry->NextRequestId()));
    IPN_RETURN_IF_ERROR(registry->RequestSymbol(kPen, "PENP-" + std::to_string(i), code,
                                                registry->NextRequestId()));
    sodium_memzero(code.data(), code.size());
  }
  const auto deadline = SteadyClock::now() + std::chrono::seconds(30);
  while ((responses < 2 * kPeople || static_cast<int>(symbols.size()) < kPeople) &&
         SteadyClock::now() < deadline) {
    (void)registry->Poll(std::chrono::milliseconds(5), reg_cb);
    (void)sdk->Poll(std::chrono::milliseconds(0), sdk_cb);
  }
  if (static_cast<int>(symbols.size()) < kPeople) return Status::DeadlineExceeded("symbols");

  MiddleE2eFigures out;
  constexpr int kBlock = 50, kWarmup = 50;
  auto by_api = [&](int i) -> bool {
    const Json ask = {{"person", "PENP-" + std::to_string(i % kPeople)},
                      {"provider", kMun},
                      {"business", "np-benefit"},
                      {"item", "local-tax"}};
    auto got = api.Post("/v1/inquiries", clerk, ask.dump(), 200);
    return got.ok() && (*got)["outcome"] == "provided";
  };
  auto by_sdk = [&](int i) -> bool {
    interface::InquiryRequest r;
    r.symbol = symbols["PENP-" + std::to_string(i % kPeople)];
    r.business = "np-benefit";
    r.provider = kMun;
    r.item = "local-tax";
    auto reply = sdk->Inquire(std::move(r), std::chrono::seconds(20));
    return reply.ok() && reply->outcome == v1::OUTCOME_PROVIDED;
  };
  for (int i = 0; i < samples + kWarmup; i += kBlock) {
    for (int j = 0; j < kBlock; ++j) {
      auto t0 = SteadyClock::now();
      const bool ok = by_sdk(i + j);
      const double us = Micros(SteadyClock::now() - t0);
      if (!ok) ++out.failures;
      if (ok && i >= kWarmup) out.sdk_us.push_back(us);
    }
    for (int j = 0; j < kBlock; ++j) {
      auto t0 = SteadyClock::now();
      const bool ok = by_api(i + j);
      const double us = Micros(SteadyClock::now() - t0);
      if (!ok) ++out.failures;
      if (ok && i >= kWarmup) out.api_us.push_back(us);
    }
  }
  std::sort(out.api_us.begin(), out.api_us.end());
  std::sort(out.sdk_us.begin(), out.sdk_us.end());
  middle.Stop();
  (void)net->Stop();
  return out;
}

}  // namespace ipn::bench
