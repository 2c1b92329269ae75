// The middle-server platform on a live network (issue #14): the municipality runs no
// program of its own; `ipn-middle` holds its registered copies (imported from a CSV) and
// answers the pension service's inquiries from them: provided with the copy, not held
// without one, and a non-disclosure copy's flag in the provision records.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/file_util.h"
#include "interface/agency_client.h"
#include "middle/totp.h"
#include "tests/e2e/e2e_fixture.h"
#include "tools/localnet/child_process.h"

namespace ipn::testing {
namespace {

constexpr char kReg[] = "REG-0001";
constexpr char kMun[] = "MUN-131016";
constexpr char kPen[] = "PEN-0001";

TEST(MiddleE2eTest, TheMunicipalitysCopiesAnswerWithNoProgramOfItsOwn) {
  E2eNetwork n({kReg, kMun, kPen}, {}, "", 5.0, {}, [](localnet::LocalNetworkOptions& o) {
    for (localnet::AgencySpec& a : o.agencies) {
      if (a.code == kMun) a.start_agency_program = false;  // the platform answers instead
    }
  });
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string dir = n.dir() + "/middle";
  const std::string csv = n.dir() + "/copies.csv";
  ASSERT_TRUE(WriteFileAtomic(csv,
                              "person,item,content,as_of,non_disclosure\n"
                              "MUNP-1,local-tax,MIDDLE-COPY-ONE,2026-04-01,false\n"
                              "MUNP-2,local-tax,MIDDLE-COPY-TWO,2026-04-01,true\n")
                  .ok());
  const int imported = std::system((BinDir() + "/ipn-middle import --dir " + dir + " --tenant " +
                                    kMun + " --file " + csv + " >/dev/null 2>&1 </dev/null")
                                       .c_str());
  ASSERT_TRUE(WIFEXITED(imported) && WEXITSTATUS(imported) == 0);
  auto middle = localnet::ChildProcess::Start(
      {BinDir() + "/ipn-middle", "serve", "--dir", dir, "--tenant",
       std::string(kMun) + "=" + n.net().LocalEndpoint(kMun), "--log", dir + "/middle.log"},
      {}, dir + "/middle.stderr");
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  ASSERT_TRUE(middle->WaitReady(std::chrono::seconds(20)).ok());

  // The registry issues the municipality its symbols with its internal person numbers as
  // the references; the platform binds them (in order on its connection, before any
  // inquiry the issuance makes possible).
  std::vector<std::vector<uint8_t>> at_pension;
  for (int i = 1; i <= 3; ++i) {
    const std::string code = ResidentCodeFrom("32345678" + std::to_string(10 + i));
    n.IssueSymbol(kMun, code, "MUNP-" + std::to_string(i));
    at_pension.push_back(n.IssueSymbol(kPen, code, "pen-" + std::to_string(i)));
  }
  auto one = n.Inquire(kPen, at_pension[0], "np-benefit", kMun, "local-tax", "mid-1");
  EXPECT_EQ(one.outcome, v1::OUTCOME_PROVIDED);
  EXPECT_EQ(one.payload, "MIDDLE-COPY-ONE");
  auto two = n.Inquire(kPen, at_pension[1], "np-benefit", kMun, "local-tax", "mid-2");
  EXPECT_EQ(two.outcome, v1::OUTCOME_PROVIDED);
  EXPECT_EQ(two.payload, "MIDDLE-COPY-TWO");
  auto three = n.Inquire(kPen, at_pension[2], "np-benefit", kMun, "local-tax", "mid-3");
  EXPECT_EQ(three.outcome, v1::OUTCOME_NOT_HELD);
  EXPECT_TRUE(three.payload.empty());

  EXPECT_EQ(middle->Stop(), 0);
  bool flagged = false, unflagged = false;
  for (const records::Record& r : n.StopAndReadRecords()) {
    if (r.event != records::Event::kProvided) continue;
    if (r.request_id == "mid-2") flagged = r.non_disclosure;
    if (r.request_id == "mid-1") unflagged = !r.non_disclosure;
  }
  EXPECT_TRUE(flagged) << "the non-disclosure copy's flag reached the records";
  EXPECT_TRUE(unflagged);
  // The copies' content is nowhere in the clear: not in the platform's files, the nodes'
  // or the core's (only inside the tenant's sealed values).
  for (const char* marker : {"MIDDLE-COPY-ONE", "MIDDLE-COPY-TWO", "MUNP-1"}) {
    EXPECT_TRUE(FilesContaining(n.dir(), marker).size() == 1 &&
                FilesContaining(n.dir(), marker)[0] == csv)
        << marker << " outside the import file";
  }
}

// "Answer by hand" (issue #14): the municipality marks resident-record as answered by
// hand. While its own system is away the platform answers it "failed" — never from the
// copy it holds; once its system connects naming that item (an SDK serving client), the
// node hands resident-record to it and everything else still to the platform.
TEST(MiddleE2eTest, AnItemAnsweredByHandGoesToTheAgencysOwnSystem) {
  E2eNetwork n({kReg, kMun, kPen}, {}, "", 5.0, {}, [](localnet::LocalNetworkOptions& o) {
    for (localnet::AgencySpec& a : o.agencies) {
      if (a.code == kMun) a.start_agency_program = false;
    }
  });
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string dir = n.dir() + "/middle";
  const std::string csv = n.dir() + "/copies.csv";
  ASSERT_TRUE(WriteFileAtomic(csv,
                              "person,item,content,as_of,non_disclosure\n"
                              "MUNP-1,local-tax,FROM-THE-COPY,2026-04-01,false\n"
                              "MUNP-1,resident-record,NOT-THE-ANSWER,2026-04-01,false\n")
                  .ok());
  for (const std::string& command :
       {" import --dir " + dir + " --tenant " + kMun + " --file " + csv,
        " by-hand --dir " + dir + " --tenant " + kMun + " --item resident-record"}) {
    const int rc =
        std::system((BinDir() + "/ipn-middle" + command + " >/dev/null 2>&1 </dev/null").c_str());
    ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << command;
  }
  auto middle = localnet::ChildProcess::Start(
      {BinDir() + "/ipn-middle", "serve", "--dir", dir, "--tenant",
       std::string(kMun) + "=" + n.net().LocalEndpoint(kMun), "--log", dir + "/middle.log"},
      {}, dir + "/middle.stderr");
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  ASSERT_TRUE(middle->WaitReady(std::chrono::seconds(20)).ok());
  const std::string code = ResidentCodeFrom("3234567811");
  n.IssueSymbol(kMun, code, "MUNP-1");
  const std::vector<uint8_t> at_pension = n.IssueSymbol(kPen, code, "pen-1");

  auto away = n.Inquire(kPen, at_pension, "np-benefit", kMun, "resident-record", "hand-1");
  EXPECT_EQ(away.outcome, v1::OUTCOME_FAILED);
  EXPECT_TRUE(away.payload.empty());

  // The municipality's own system, naming the item it answers by hand.
  auto own = interface::AgencyClient::Connect(n.net().LocalEndpoint(kMun),
                                              {.serve = true, .items = {"resident-record"}});
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  std::atomic<bool> stop{false};
  std::atomic<int> answered_by_hand{0};
  std::thread serving([&] {
    interface::AgencyClient::Callbacks cb;
    cb.on_inquiry = [&](const v1::ForwardedInquiry& f) {
      ++answered_by_hand;
      v1::AgencyAnswer a;
      a.set_outcome(v1::OUTCOME_PROVIDED);
      a.set_payload("BY-HAND: " + f.item_code());
      return a;
    };
    EXPECT_TRUE((*own)->Serve(cb, stop).ok());
  });
  auto by_hand = n.Inquire(kPen, at_pension, "np-benefit", kMun, "resident-record", "hand-2");
  EXPECT_EQ(by_hand.outcome, v1::OUTCOME_PROVIDED);
  EXPECT_EQ(by_hand.payload, "BY-HAND: resident-record");
  auto from_copy = n.Inquire(kPen, at_pension, "np-benefit", kMun, "local-tax", "hand-3");
  EXPECT_EQ(from_copy.outcome, v1::OUTCOME_PROVIDED);
  EXPECT_EQ(from_copy.payload, "FROM-THE-COPY");
  stop = true;
  serving.join();
  EXPECT_EQ(answered_by_hand.load(), 1);
  EXPECT_EQ(middle->Stop(), 0);
}

// Agencies on the platform with HTTP only (issue #14): neither agency runs a program of its
// own, and nothing on their side is C++ — an HTTP client stands in for their systems. The
// platform's operator makes the two tenants' admins; the municipality's registrar imports
// 1,000 copies as CSV; the pension service's clerk inquires by its own internal person
// numbers and gets the municipality's copies (provided, provided with the flag, not held).
class MiddleHttpE2e {
 public:
  explicit MiddleHttpE2e(int port) : http_("127.0.0.1", port) {}
  httplib::Result Post(const std::string& path, const std::string& token, const std::string& body,
                       const std::string& type = "application/json") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return http_.Post(path, headers, body, type);
  }
  // Logs in with the code of the current 30-second step.
  std::string LogIn(const std::string& tenant, const std::string& account,
                    const std::string& secret) {
    const auto key = middle::FromBase32(secret);
    EXPECT_TRUE(key.ok());
    if (!key.ok()) return "";
    const std::string code = middle::TotpCode(*key, static_cast<uint64_t>(std::time(nullptr)) / 30);
    nlohmann::json body = {
        {"tenant", tenant}, {"account", account}, {"password", kPassword}, {"code", code}};
    auto res = Post("/v1/session", "", body.dump());
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no reply");
    return res && res->status == 201 ? nlohmann::json::parse(res->body)["token"].get<std::string>()
                                     : "";
  }
  // Creates an account; its TOTP secret.
  std::string Account(const std::string& token, const nlohmann::json& spec) {
    nlohmann::json body = spec;
    body["password"] = kPassword;
    auto res = Post("/v1/accounts", token, body.dump());
    EXPECT_TRUE(res && res->status == 201) << (res ? res->body : "no reply");
    return res && res->status == 201
               ? nlohmann::json::parse(res->body)["totp_secret"].get<std::string>()
               : "";
  }
  httplib::Result Get(const std::string& path, const std::string& token) {
    return http_.Get(path, {{"Authorization", "Bearer " + token}});
  }
  static constexpr char kPassword[] = "a long enough password";

 private:
  httplib::Client http_;
};

TEST(MiddleE2eTest, AgenciesJoinWithHttpOnlyAndCopiesAnswerAutomatically) {
  E2eNetwork n({kReg, kMun, kPen}, {}, "", 5.0, {}, [](localnet::LocalNetworkOptions& o) {
    for (localnet::AgencySpec& a : o.agencies) {
      if (a.code != kReg) a.start_agency_program = false;  // the platform serves both
    }
  });
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string dir = n.dir() + "/middle";
  // The platform's side: its first operator, then the platform with both tenants.
  const std::string made = n.dir() + "/operator.json";
  const int op = std::system(("IPN_MIDDLE_PASSWORD='" + std::string(MiddleHttpE2e::kPassword) +
                              "' " + BinDir() + "/ipn-middle operator --dir " + dir +
                              " --name ops > " + made + " 2>&1 </dev/null")
                                 .c_str());
  ASSERT_TRUE(WIFEXITED(op) && WEXITSTATUS(op) == 0)
      << (ReadFile(made).ok() ? *ReadFile(made) : std::string());
  const std::string ops_secret =
      nlohmann::json::parse(ReadFile(made).value())["totp_secret"].get<std::string>();
  auto middle = localnet::ChildProcess::Start(
      {BinDir() + "/ipn-middle", "serve", "--dir", dir, "--tenant",
       std::string(kMun) + "=" + n.net().LocalEndpoint(kMun), "--tenant",
       std::string(kPen) + "=" + n.net().LocalEndpoint(kPen), "--api", "127.0.0.1:0", "--policy",
       n.dir() + "/net/policy/bundle.ipnp", "--admin-key", n.dir() + "/net/policy/admin.pub",
       "--log", dir + "/middle.log"},
      {}, dir + "/middle.stderr");
  ASSERT_TRUE(middle.ok()) << middle.status().ToString();
  auto ready = middle->WaitReady(std::chrono::seconds(20));
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  MiddleHttpE2e api(std::stoi(ready->at("api_port")));

  // Everything below is HTTP.
  const std::string ops = api.LogIn("_platform", "ops", ops_secret);
  const std::string mun_admin_secret =
      api.Account(ops, {{"tenant", kMun}, {"account", "m-admin"}, {"roles", {"admin"}}});
  const std::string pen_admin_secret =
      api.Account(ops, {{"tenant", kPen}, {"account", "p-admin"}, {"roles", {"admin"}}});
  const std::string mun_admin = api.LogIn(kMun, "m-admin", mun_admin_secret);
  const std::string pen_admin = api.LogIn(kPen, "p-admin", pen_admin_secret);
  const std::string reg_secret =
      api.Account(mun_admin, {{"account", "m-reg"}, {"roles", {"registrar"}}});
  const std::string clerk_secret = api.Account(
      pen_admin, {{"account", "p-clerk"}, {"roles", {"inquirer"}}, {"businesses", {"np-benefit"}}});
  const std::string reg = api.LogIn(kMun, "m-reg", reg_secret);
  const std::string clerk = api.LogIn(kPen, "p-clerk", clerk_secret);
  std::string csv = "person,item,content,as_of,non_disclosure\n";
  for (int i = 1; i <= 1000; ++i) {
    csv += "MUNP-" + std::to_string(i) + ",local-tax,MIDDLE-HTTP-" + std::to_string(i) +
           ",2026-04-01," + (i == 2 ? "true" : "false") + "\n";
  }
  auto imported = api.Post("/v1/copies/import", reg, csv, "text/csv");
  ASSERT_TRUE(imported && imported->status == 200) << (imported ? imported->body : "no reply");
  EXPECT_EQ(nlohmann::json::parse(imported->body)["rows"], 1000);
  // An item the municipality does not provide under the permitted-link list: refused.
  auto unknown = api.Post("/v1/copies/import", reg,
                          "person,item,content,as_of,non_disclosure\n"
                          "MUNP-1,pension-amount,x,2026-04-01,false\n",
                          "text/csv");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400) << unknown->body;

  // The registry issues both agencies their symbols, with their own person numbers as the
  // references (person 3 is one the municipality holds no copy for).
  for (int i = 1; i <= 3; ++i) {
    const std::string code = ResidentCodeFrom("42345678" + std::to_string(10 + i));
    n.IssueSymbol(kMun, code, i == 3 ? "MUNP-5000" : "MUNP-" + std::to_string(i));
    n.IssueSymbol(kPen, code, "PENP-" + std::to_string(i));
  }
  // The pension service's person map learns a symbol when its node delivers the issuance
  // to the platform: until then the API answers 404 (no symbol yet) and nothing is asked.
  auto ask = [&](const std::string& person) {
    nlohmann::json body = {
        {"person", person}, {"provider", kMun}, {"business", "np-benefit"}, {"item", "local-tax"}};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    httplib::Result res = api.Post("/v1/inquiries", clerk, body.dump());
    while (res && res->status == 404 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      res = api.Post("/v1/inquiries", clerk, body.dump());
    }
    EXPECT_TRUE(res && res->status == 200) << person << ": " << (res ? res->body : "no reply");
    return res && res->status == 200 ? nlohmann::json::parse(res->body) : nlohmann::json{};
  };
  const nlohmann::json one = ask("PENP-1"), two = ask("PENP-2"), three = ask("PENP-3");
  EXPECT_EQ(one.value("outcome", ""), "provided");
  EXPECT_EQ(one.value("content", ""), "MIDDLE-HTTP-1");
  EXPECT_EQ(two.value("outcome", ""), "provided");
  EXPECT_EQ(two.value("content", ""), "MIDDLE-HTTP-2");
  EXPECT_EQ(three.value("outcome", ""), "not_held");
  EXPECT_FALSE(three.contains("content"));

  // The clerk's audit entry names each inquiry's request id; the core's records use it.
  auto log = api.Get("/v1/audit?limit=1000", pen_admin);
  ASSERT_TRUE(log && log->status == 200) << (log ? log->body : httplib::to_string(log.error()));
  for (const nlohmann::json* answer : {&one, &two, &three}) {
    const std::string id = answer->value("request_id", "");
    EXPECT_TRUE(id.starts_with("api-")) << id;
    EXPECT_NE(log->body.find("as " + id), std::string::npos) << id;
  }
  EXPECT_EQ(middle->Stop(), 0);
  int provided = 0, flagged = 0, not_held = 0;
  for (const records::Record& r : n.StopAndReadRecords()) {
    if (r.inquirer != kPen || r.provider != kMun) continue;
    EXPECT_TRUE(r.request_id == one.value("request_id", "") ||
                r.request_id == two.value("request_id", "") ||
                r.request_id == three.value("request_id", ""))
        << r.request_id;
    provided += r.event == records::Event::kProvided;
    flagged += r.event == records::Event::kProvided && r.non_disclosure;
    not_held += r.event == records::Event::kNotHeld;
  }
  EXPECT_EQ(provided, 2);
  EXPECT_EQ(flagged, 1) << "the non-disclosure copy's flag reached the records";
  EXPECT_EQ(not_held, 1);
  // The copies went over HTTP into the tenant's sealed store: no marker is in any file the
  // platform, the nodes or the core left, in the clear.
  for (const char* marker : {"MIDDLE-HTTP-", "MUNP-", "PENP-"}) {
    EXPECT_TRUE(FilesContaining(n.dir(), marker).empty()) << marker;
  }
}

}  // namespace
}  // namespace ipn::testing
