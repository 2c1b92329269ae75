// The demo's scenarios and summary.
#include "tools/ipn/broker/demo_scenarios.h"

#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "interface/agency_client.h"
#include "ipn/v1/wire_names.h"

namespace ipn::cli {

namespace {

using interface::AgencyClient;
using interface::InquiryReply;
using interface::InquiryRequest;

constexpr const char* kRegistry = "REG-0001";
constexpr const char* kMunicipality = "MUN-131016";
constexpr const char* kPension = "PEN-0001";
constexpr const char* kInsurer = "INS-0001";
constexpr const char* kLabour = "LAB-0001";  // suspended in the demo directory
constexpr const char* kPortal = "PORTAL-0001";
constexpr const char* kCommission = "PPC-0001";

std::string OutcomeLabel(const InquiryReply& r) {
  std::string name(v1::OutcomeName(r.outcome));
  if (r.outcome == v1::OUTCOME_REFUSED || r.deny_reason == v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER) {
    name += ": " + std::string(v1::DenyReasonName(r.deny_reason));
  }
  return name;
}

// The agencies' view of the people: person reference -> the agency's symbol.
using SymbolBook = std::map<std::string, std::map<std::string, std::vector<uint8_t>>>;

struct Clients {
  std::unique_ptr<AgencyClient> registry;
  std::map<std::string, std::unique_ptr<AgencyClient>> agencies;
};

AgencyClient::Callbacks CollectSymbols(const std::string& agency, SymbolBook* book) {
  AgencyClient::Callbacks cb;
  cb.on_symbol = [agency, book](interface::IssuedSymbol s) {
    (*book)[agency][s.person_ref] = std::move(s.symbol);
  };
  return cb;
}

// Sends every request pipelined and waits for every reply.
Status RunInquiries(AgencyClient& client, std::vector<InquiryRequest> requests,
                    ScenarioResult* result, const std::atomic<bool>& stop) {
  std::set<std::string> waiting;
  for (auto& r : requests) {
    r.request_id = client.NextRequestId();
    waiting.insert(r.request_id);
    IPN_RETURN_IF_ERROR(client.Submit(std::move(r)));
    ++result->sent;
  }
  AgencyClient::Callbacks cb;
  cb.on_reply = [&](InquiryReply r) {
    if (waiting.erase(r.request_id) == 0) return;
    ++result->outcomes[OutcomeLabel(r)];
    sodium_memzero(r.payload.data(), r.payload.size());
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!waiting.empty()) {
    if (stop.load()) return Status::FailedPrecondition("interrupted");
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::DeadlineExceeded(std::to_string(waiting.size()) + " inquiries of '" +
                                      result->name + "' got no result");
    }
    IPN_RETURN_IF_ERROR(client.Poll(std::chrono::milliseconds(100), cb));
  }
  return Status::Ok();
}

}  // namespace

std::vector<localnet::AgencySpec> DemoAgencies() {
  return {{kRegistry, true, false}, {kMunicipality, true, false}, {kPension, true, false},
          {kInsurer, true, true},   {kPortal, true, false},       {kCommission, true, false}};
}

std::string DemoPersonRef(size_t index) {
  return "P" + std::to_string(100000 + index);
}

std::vector<std::string> DemoSuspended() {
  return {kLabour};
}

Status RunDemoScenarios(localnet::LocalNetwork& net, const std::vector<std::string>& codes,
                        const std::atomic<bool>& stop, bool progress, DemoSummary* summary) {
  SymbolBook book;
  Clients clients;
  auto reg = AgencyClient::Connect(net.LocalEndpoint(kRegistry));
  if (!reg.ok()) return reg.status().WithContext("registry link");
  clients.registry = std::move(*reg);
  for (const char* code : {kMunicipality, kPension, kInsurer}) {
    auto c = AgencyClient::Connect(net.LocalEndpoint(code));
    if (!c.ok()) return c.status().WithContext(code);
    clients.agencies[code] = std::move(*c);
  }

  // 1. Symbols: every resident at the municipality and the pension service; three in
  //    four at the health insurer (the fourth shows "never issued: not held"). The
  //    reference is the agency's internal person number: the platform binds it.
  summary->residents = static_cast<int>(codes.size());
  int requested = 0, answered = 0, failed = 0;
  for (size_t i = 0; i < codes.size(); ++i) {
    const std::string ref = DemoPersonRef(i);
    for (const char* agency : {kMunicipality, kPension, kInsurer}) {
      if (std::string(agency) == kInsurer && i % 4 == 3) continue;
      IPN_RETURN_IF_ERROR(clients.registry->RequestSymbol(agency, ref, codes[i],
                                                          clients.registry->NextRequestId()));
      ++requested;
    }
  }
  AgencyClient::Callbacks reg_cb;
  reg_cb.on_issue_response = [&](const v1::IssueSymbolResponse& r) {
    ++answered;
    if (r.error_code() != v1::ERROR_CODE_NONE) ++failed;
  };
  auto count_symbols = [&] {
    int n = 0;
    for (const auto& [a, people] : book) n += static_cast<int>(people.size());
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (answered < requested || count_symbols() < requested - failed) {
    if (stop.load()) return Status::FailedPrecondition("interrupted");
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::DeadlineExceeded("symbol issuance did not finish");
    }
    IPN_RETURN_IF_ERROR(clients.registry->Poll(std::chrono::milliseconds(20), reg_cb));
    for (auto& [code, c] : clients.agencies) {
      IPN_RETURN_IF_ERROR(c->Poll(std::chrono::milliseconds(0), CollectSymbols(code, &book)));
    }
    if (progress) {
      std::fprintf(stderr, "\r  issuing symbols: %d/%d", answered, requested);
    }
  }
  if (progress) std::fprintf(stderr, "\n");
  if (failed > 0) return Status::Internal(std::to_string(failed) + " symbol issuances failed");
  summary->symbols_issued = count_symbols();

  auto people = [&](const std::string& agency, size_t n) {
    std::vector<std::vector<uint8_t>> out;
    for (const auto& [ref, sym] : book[agency]) {
      if (out.size() == n) break;
      out.push_back(sym);
    }
    return out;
  };
  auto scenario = [&](const std::string& name, const std::string& inquirer,
                      const std::string& business, const std::string& provider,
                      const std::string& item,
                      std::vector<std::vector<uint8_t>> symbols) -> Status {
    ScenarioResult result;
    result.name = name;
    result.inquirer = inquirer;
    result.provider = provider;
    result.business = business;
    result.item = item;
    std::vector<InquiryRequest> requests;
    for (auto& s : symbols) {
      InquiryRequest r;
      r.symbol = std::move(s);
      r.business = business;
      r.provider = provider;
      r.item = item;
      r.parameters["fiscal_year"] = "2025";
      requests.push_back(std::move(r));
    }
    if (progress) std::fprintf(stderr, "  %s\n", name.c_str());
    IPN_RETURN_IF_ERROR(
        RunInquiries(*clients.agencies[inquirer], std::move(requests), &result, stop));
    summary->scenarios.push_back(std::move(result));
    return Status::Ok();
  };
  const size_t n = codes.size();

  // 2. Lawful inquiries.
  IPN_RETURN_IF_ERROR(scenario("pension benefit: income from the municipality", kPension,
                               "np-benefit", kMunicipality, "local-tax", people(kPension, n / 2)));
  IPN_RETURN_IF_ERROR(scenario("national health insurance: medical insurance data", kMunicipality,
                               "nhi-benefit", kInsurer, "medical-insurance",
                               people(kMunicipality, n / 2)));
  IPN_RETURN_IF_ERROR(scenario("public assistance: pension data", kMunicipality,
                               "public-assistance", kPension, "pension",
                               people(kMunicipality, n / 4)));
  IPN_RETURN_IF_ERROR(scenario("premium exemption: public assistance status", kPension,
                               "np-premium-exemption", kMunicipality, "public-assistance",
                               people(kPension, n / 4)));
  // 3. Refusals.
  IPN_RETURN_IF_ERROR(scenario("refused: no such link", kInsurer, "health-insurance-benefit",
                               kPension, "pension", people(kInsurer, 10)));
  IPN_RETURN_IF_ERROR(scenario("refused: provider suspended", kMunicipality, "public-assistance",
                               kLabour, "employment-insurance", people(kMunicipality, 10)));
  IPN_RETURN_IF_ERROR(scenario("refused: link expired", kMunicipality, "child-allowance", kPension,
                               "pension", people(kMunicipality, 5)));
  std::vector<std::vector<uint8_t>> forged;
  for (int i = 0; i < 10; ++i) {
    std::vector<uint8_t> s(50);
    randombytes_buf(s.data(), s.size());
    forged.push_back(std::move(s));
  }
  IPN_RETURN_IF_ERROR(scenario("refused: unknown symbol", kMunicipality, "public-assistance",
                               kPension, "pension", std::move(forged)));
  // 4. A provider outage: the health insurer's node goes down.
  net.KillNode(kInsurer);
  IPN_RETURN_IF_ERROR(scenario("outage: health insurer's node down", kMunicipality, "nhi-benefit",
                               kInsurer, "medical-insurance", people(kMunicipality, 10)));
  return Status::Ok();
}

nlohmann::json DemoSummary::ToJson() const {
  nlohmann::json j;
  j["residents"] = residents;
  j["symbols_issued"] = symbols_issued;
  j["records"] = records;
  j["records_verification"] = records_verification;
  j["seconds"] = seconds;
  j["portal"] = {{"url", portal_url},
                 {"citizen_card", citizen_card},
                 {"citizen_card_pin", citizen_card_pin},
                 {"softhsm_conf", softhsm_conf},
                 {"citizen_index", citizen_index}};
  j["scenarios"] = nlohmann::json::array();
  for (const auto& s : scenarios) {
    j["scenarios"].push_back({{"name", s.name},
                              {"inquirer", s.inquirer},
                              {"business", s.business},
                              {"provider", s.provider},
                              {"item", s.item},
                              {"sent", s.sent},
                              {"outcomes", s.outcomes}});
  }
  return j;
}

std::string DemoSummary::ToTable() const {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-50s %-11s %-11s %5s  %s\n", "scenario", "inquirer",
                "provider", "sent", "outcomes");
  out += line;
  out += std::string(110, '-') + "\n";
  for (const auto& s : scenarios) {
    std::string outcomes;
    for (const auto& [k, v] : s.outcomes) {
      if (!outcomes.empty()) outcomes += ", ";
      outcomes += k + " " + std::to_string(v);
    }
    std::snprintf(line, sizeof(line), "%-50s %-11s %-11s %5d  %s\n", s.name.c_str(),
                  s.inquirer.c_str(), s.provider.c_str(), s.sent, outcomes.c_str());
    out += line;
  }
  out += std::string(110, '-') + "\n";
  std::snprintf(line, sizeof(line),
                "residents %d, symbols issued %d, provision records %llu (%s), %.1f s\n", residents,
                symbols_issued, static_cast<unsigned long long>(records),
                records_verification.c_str(), seconds);
  out += line;
  return out;
}

std::string DemoSummary::PortalLine() const {
  if (portal_url.empty()) return "";
  return "disclosure portal " + portal_url + " — demo citizen (resident #" +
         std::to_string(citizen_index + 1) + "): enrol and log in with card " + citizen_card +
         " (PIN " + citizen_card_pin + ", SOFTHSM2_CONF=" + softhsm_conf + ")\n";
}

}  // namespace ipn::cli
