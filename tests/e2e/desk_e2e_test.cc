// `ipn oversight desk` against a live network (issue #17): the desk, run for real through
// the commission's node, pulls the whole log, verifies it and serves it to an investigator
// who logs in with a password and a one-time code (an account `ipn oversight desk-user`
// made); an exchange made while it runs reaches its figures by the next timed pull, and
// only that; its pulls anchor its audit log's chain in the core's records; its copy on disk
// holds no request id and no record symbol in clear. Stopped by SIGTERM, it exits 0.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/encoding.h"
#include "common/file_util.h"
#include "oversight/desk_auth.h"
#include "oversight/pulled_set.h"
#include "tests/e2e/e2e_fixture.h"
#include "tools/localnet/child_process.h"

namespace ipn::testing {
namespace {

constexpr const char* kReg = "REG-0001";
constexpr const char* kMun = "MUN-131016";
constexpr const char* kPen = "PEN-0001";
constexpr const char* kPpc = "PPC-0001";

std::string Tail(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  return text.ok() ? text->substr(text->size() > 2000 ? text->size() - 2000 : 0) : "";
}

// True when any file under `dir` holds `needle`.
bool AnyFileHolds(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    Result<std::string> text = ReadFile(e.path().string());
    if (text.ok() && text->find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(DeskE2eTest, TheDeskCommandPullsVerifiesAndServesALiveNetwork) {
  E2eNetwork n({kReg, kMun, kPen, kPpc});
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string code = ResidentCodeFrom("2468013579");
  n.IssueSymbol(kMun, code, "p1");
  const std::vector<uint8_t> at_pen = n.IssueSymbol(kPen, code, "p1");
  for (const char* id : {"desk-1", "desk-2"}) {
    interface::InquiryReply r = n.Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax", id);
    ASSERT_EQ(r.outcome, n.ExpectedOutcome(kMun, "p1", "local-tax")) << r.explanation;
  }
  Result<v1::TreeHeadResponse> head =
      n.Client(kPpc).RequestTreeHead(0, 0, std::chrono::seconds(10));
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  const std::string records_key = HexEncode(oversight::FromView(head->head()).value().signer);

  // The investigator's account, as an operator makes it.
  const std::string accounts = n.dir() + "/investigators", password = "a desk password 1";
  const std::string add = BinDir() + "/ipn oversight desk-user --accounts " + accounts +
                          " --name inspector > " + n.dir() + "/uri.txt";
  FILE* p = popen(add.c_str(), "w");
  ASSERT_NE(p, nullptr);
  std::fputs((password + "\n").c_str(), p);
  ASSERT_EQ(pclose(p), 0);
  EXPECT_TRUE(
      ReadFile(n.dir() + "/uri.txt").value().starts_with("otpauth://totp/IPN%20desk:inspector?"));
  const std::string line = ReadFile(accounts).value();
  const std::vector<uint8_t> secret = HexDecode(line.substr(line.rfind(':') + 1, 40)).value();

  const std::string desk_dir = n.dir() + "/desk";
  Result<localnet::ChildProcess> desk = localnet::ChildProcess::Start(
      {BinDir() + "/ipn", "oversight", "desk", "--node", n.net().LocalEndpoint(kPpc), "--dir",
       desk_dir, "--data-key", n.dir() + "/desk.key", "--records-key", records_key, "--accounts",
       accounts, "--listen", "127.0.0.1:0", "--interval", "1"},
      {}, n.dir() + "/desk.err");
  ASSERT_TRUE(desk.ok()) << desk.status().ToString();
  Result<std::map<std::string, std::string>> ready = desk->WaitReady(std::chrono::seconds(30));
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  httplib::Client http("127.0.0.1", std::stoi(ready->at("port")));

  const uint64_t step = static_cast<uint64_t>(std::time(nullptr) / 30);
  auto login = http.Post("/api/login",
                         nlohmann::json{{"name", "inspector"},
                                        {"password", password},
                                        {"code", oversight::TotpCode(secret, step)}}
                             .dump(),
                         "application/json");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200) << login->body;
  const std::string cookie = login->get_header_value("Set-Cookie");
  const httplib::Headers session = {
      {"X-Desk-Session", nlohmann::json::parse(login->body)["session"].get<std::string>()},
      {"Cookie", cookie.substr(0, cookie.find(';'))}};
  auto summary = [&]() {
    auto res = http.Get("/api/summary", session);
    return res && res->status == 200 ? nlohmann::json::parse(res->body) : nlohmann::json();
  };
  auto total = [&]() {
    auto res = http.Get("/api/volumes?group_by=event", session);
    uint64_t sum = 0;
    if (!res || res->status != 200) return sum;
    const nlohmann::json rows = nlohmann::json::parse(res->body)["rows"];
    for (const auto& row : rows) sum += row["count"].get<uint64_t>();
    return sum;
  };
  // The desk's pulls are timed: wait (bounded) for the first to have verified the log.
  auto wait_for_size = [&](uint64_t at_least) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      nlohmann::json s = summary();
      if (s.is_object() && s["size"].get<uint64_t>() >= at_least) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nlohmann::json();
  };
  nlohmann::json first = wait_for_size(1);
  ASSERT_TRUE(first.is_object()) << Tail(n.dir() + "/desk.err");
  const uint64_t size = first["size"];
  EXPECT_EQ(first["head"]["tree_size"], size);
  EXPECT_EQ(first["records_key"], records_key);
  EXPECT_EQ(total(), size);

  interface::InquiryReply third =
      n.Inquire(kPen, at_pen, "np-benefit", kMun, "local-tax", "desk-3");
  ASSERT_EQ(third.outcome, n.ExpectedOutcome(kMun, "p1", "local-tax"));
  nlohmann::json later = wait_for_size(size + 4);  // accepted, forwarded, provided, received
  ASSERT_TRUE(later.is_object()) << Tail(n.dir() + "/desk.err");
  EXPECT_EQ(total(), later["size"].get<uint64_t>());
  EXPECT_TRUE(later["last_pull"]["ok"].get<bool>());

  auto audit = http.Get("/api/audit", session);
  ASSERT_TRUE(audit && audit->status == 200);
  EXPECT_NE(audit->body.find("/api/volumes?group_by=event"), std::string::npos);
  EXPECT_EQ(desk->Stop(), 0);
  // Sealed at rest: no request id, no record symbol in clear.
  const std::vector<records::Record> all = n.StopAndReadRecords();
  EXPECT_GE(all.size(), later["size"].get<uint64_t>());  // and the pulls' own records since
  // The desk's audit log is anchored in the core's: a pull after the investigator's views
  // carries the chain value of one of the desk's entries into its `records_pull` record.
  const std::string audit_log = ReadFile(desk_dir + "/audit.log").value();
  size_t anchored = 0;
  for (const records::Record& r : all) {
    const size_t at = r.outcome.find("; desk audit ");
    if (r.business != "records_pull" || at == std::string::npos) continue;
    const std::string chain = r.outcome.substr(at + 13);
    EXPECT_EQ(chain.size(), 64u) << r.outcome;
    if (chain != std::string(64, '0') &&
        audit_log.find("\"chain\":\"" + chain + "\"") != std::string::npos) {
      ++anchored;
    }
  }
  EXPECT_GT(anchored, 0u);
  for (const std::string& secret_text :
       {std::string("desk-1"), std::string("desk-3"), HexEncode(n.RecordSymbolOf(at_pen, kPen))}) {
    EXPECT_FALSE(AnyFileHolds(desk_dir + "/store", secret_text)) << secret_text;
  }
}

}  // namespace
}  // namespace ipn::testing
