// E2eNetwork: test scaffolding over LocalNetwork.
#include "tests/e2e/e2e_fixture.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sodium.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <thread>

#include "common/encoding.h"
#include "common/file_util.h"
#include "symbol/resident_code.h"
#include "symbol/symbol_service.h"

namespace ipn::testing {

std::vector<records::Event> EventsOf(const std::vector<records::Record>& all,
                                     const std::string& inquirer, const std::string& id,
                                     std::vector<std::string>* outcomes) {
  std::vector<records::Event> out;
  for (const records::Record& r : all) {
    if (r.inquirer != inquirer || r.request_id != id) continue;
    out.push_back(r.event);
    if (outcomes != nullptr) outcomes->push_back(r.outcome);
  }
  return out;
}

interface::InquiryRequest LocalTax(const std::vector<uint8_t>& symbol, const std::string& id) {
  interface::InquiryRequest r;
  r.request_id = id;
  r.symbol = symbol;
  r.business = "np-benefit";
  r.provider = "MUN-131016";
  r.item = "local-tax";
  return r;
}

std::string ResidentCodeFrom(const std::string& first_ten) {
  std::string code = first_ten;
  code.push_back(symbol::ResidentCodeCheckDigit(std::span<const char, 10>(first_ten.data(), 10)));
  return code;
}

demo::DatasetAnswer E2eNetwork::Expected(const std::string& provider, const std::string& person_ref,
                                         const std::string& item) const {
  return demo::DemoDataset(provider, marker_).AnswerFor(person_ref, item);
}

v1::Outcome E2eNetwork::ExpectedOutcome(const std::string& provider, const std::string& person_ref,
                                        const std::string& item) const {
  return Expected(provider, person_ref, item).held ? v1::OUTCOME_PROVIDED : v1::OUTCOME_NOT_HELD;
}

E2eNetwork::E2eNetwork(std::vector<std::string> agencies, std::vector<std::string> suspended,
                       std::string marker, double deadline_s,
                       const std::function<void(const std::string&)>& prepare,
                       const std::function<void(localnet::LocalNetworkOptions&)>& configure) {
  localnet::LocalNetworkOptions options;
  options.data_dir = dir_.path() + "/net";
  if (prepare) prepare(options.data_dir);
  options.bin_dir = BinDir();
  for (const std::string& code : agencies) {
    options.agencies.push_back({code, true, code != "REG-0001"});
  }
  options.suspended = std::move(suspended);
  marker_ = marker;
  options.answer_marker = std::move(marker);
  options.provider_deadline_s = deadline_s;
  if (configure) configure(options);
  auto net = localnet::LocalNetwork::Start(options);
  if (!net.ok()) {
    ADD_FAILURE() << "network did not start: " << net.status().ToString();
    return;
  }
  net_ = std::move(*net);
  for (const std::string& code : agencies) {
    auto client = interface::AgencyClient::Connect(net_->LocalEndpoint(code));
    if (!client.ok()) {
      ADD_FAILURE() << code << ": " << client.status().ToString();
      continue;
    }
    clients_[code] = std::move(*client);
  }
}

E2eNetwork::~E2eNetwork() {
  clients_.clear();
  if (net_) (void)net_->Stop();
}

interface::AgencyClient& E2eNetwork::Client(const std::string& agency) {
  return *clients_.at(agency);
}

std::vector<uint8_t> E2eNetwork::IssueSymbol(const std::string& agency, const std::string& code,
                                             const std::string& person_ref) {
  auto& reg = Client("REG-0001");
  const std::string id = reg.NextRequestId();
  EXPECT_TRUE(reg.RequestSymbol(agency, person_ref, code, id).ok());
  std::optional<v1::IssueSymbolResponse> response;
  std::vector<uint8_t> symbol;
  interface::AgencyClient::Callbacks reg_cb;
  reg_cb.on_issue_response = [&](const v1::IssueSymbolResponse& r) { response = r; };
  interface::AgencyClient::Callbacks agency_cb;
  agency_cb.on_symbol = [&](interface::IssuedSymbol s) {
    if (s.person_ref == person_ref) symbol = s.symbol;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((!response || (response->error_code() == v1::ERROR_CODE_NONE && symbol.empty())) &&
         std::chrono::steady_clock::now() < deadline) {
    EXPECT_TRUE(reg.Poll(std::chrono::milliseconds(10), reg_cb).ok());
    EXPECT_TRUE(Client(agency).Poll(std::chrono::milliseconds(10), agency_cb).ok());
  }
  EXPECT_TRUE(response.has_value()) << "no issuance response";
  if (response) {
    EXPECT_EQ(response->error_code(), v1::ERROR_CODE_NONE) << response->reason();
  }
  return symbol;
}

interface::InquiryReply E2eNetwork::Inquire(const std::string& inquirer,
                                            const std::vector<uint8_t>& symbol,
                                            const std::string& business,
                                            const std::string& provider, const std::string& item,
                                            const std::string& request_id) {
  interface::InquiryRequest r;
  r.request_id = request_id;
  r.symbol = symbol;
  r.business = business;
  r.provider = provider;
  r.item = item;
  auto reply = Client(inquirer).Inquire(std::move(r), std::chrono::seconds(20));
  EXPECT_TRUE(reply.ok()) << reply.status().ToString();
  return reply.ok() ? std::move(*reply) : interface::InquiryReply {};
}

double E2eNetwork::CoreMetric(const std::string& series) {
  return SiteMetric(0, series);
}

double E2eNetwork::SiteMetric(size_t site, const std::string& series) {
  const int port =
      net_->sites_size() == 0 ? net_->core_metrics_port() : net_->SiteMetricsPort(site);
  // Unreadable is not zero: NaN compares unequal to everything, so a wait for a value goes
  // on and a check of one fails, instead of a busy core reading as "not leading".
  const double unreadable = std::numeric_limits<double>::quiet_NaN();
  if (port <= 0) return unreadable;
  httplib::Client http("127.0.0.1", port);
  // A paused core (SIGSTOP) still accepts connections in the kernel but never answers:
  // short timeouts, so asking it costs half a second, not httplib's default 5 s.
  http.set_connection_timeout(0, 300'000);
  http.set_read_timeout(0, 500'000);
  auto res = http.Get("/metrics");
  if (!res || res->status != 200) return unreadable;
  std::istringstream lines(res->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

bool E2eNetwork::WaitForCoreMetric(const std::string& series, double at_least,
                                   std::chrono::seconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (CoreMetric(series) >= at_least) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the polling interval
  }
  return false;
}

std::vector<records::Record> E2eNetwork::StopAndReadRecords() {
  clients_.clear();
  EXPECT_TRUE(net_->Stop().ok());
  auto store = net_->OpenRecords();
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  std::vector<records::Record> out;
  if (!store.ok()) return out;
  EXPECT_TRUE((*store)
                  ->Pull(0, INT64_MAX, "",
                         [&](const records::Record& r) {
                           out.push_back(r);
                           return true;
                         })
                  .ok());
  auto report = (*store)->Verify();
  EXPECT_TRUE(report.ok() && report->ok()) << "the records do not verify";
  return out;
}

std::array<uint8_t, 32> E2eNetwork::RecordSymbolOf(const std::vector<uint8_t>& symbol,
                                                   const std::string& agency) {
  auto symbols = net_->OpenSymbols();
  EXPECT_TRUE(symbols.ok()) << symbols.status().ToString();
  if (!symbols.ok()) return {};
  auto rs = (*symbols)->RecordSymbolOf(symbol, agency);
  EXPECT_TRUE(rs.ok()) << rs.status().ToString();
  return rs.ok() ? rs->bytes : std::array<uint8_t, 32>{};
}

std::vector<TestOperator> MakeOperators(const TempDir& dir, const std::vector<std::string>& ids) {
  std::vector<TestOperator> ops;
  for (const std::string& id : ids) {
    TestOperator op{id, dir.Sub(id + ".secret"), {}};
    std::array<uint8_t, 64> sk{};
    crypto_sign_keypair(op.pk.data(), sk.data());
    EXPECT_TRUE(WriteFileAtomic(op.key_file, HexEncode(sk) + "\n").ok());
    sodium_memzero(sk.data(), sk.size());
    ops.push_back(op);
  }
  return ops;
}

std::string RosterText(const std::vector<std::pair<const TestOperator*, std::string>>& roles,
                       const std::string& rules) {
  std::string out;
  for (const auto& [op, role] : roles) {
    out += "operator " + op->id + " " + role + " " + HexEncode(op->pk) + "\n";
  }
  return out + rules;
}

size_t Occurrences(const std::string& path, const std::string& needle) {
  Result<std::string> text = ReadFile(path);
  size_t n = 0;
  for (size_t at = text.ok() ? text->find(needle) : std::string::npos; at != std::string::npos;
       at = text->find(needle, at + 1)) {
    ++n;
  }
  return n;
}

bool RunIpn(const std::string& args) {
  const std::string command = BinDir() + "/ipn " + args + " >/dev/null 2>&1 </dev/null";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace ipn::testing
