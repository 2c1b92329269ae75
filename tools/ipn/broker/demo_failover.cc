// The demo's failover phase and the reconciliation of both sites' logs.
#include "tools/ipn/broker/demo_failover.h"

#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "interface/agency_client.h"
#include "records/record_store.h"
#include "tools/ipn/broker/demo_scenarios.h"

namespace ipn::cli {
namespace {

using Clock = std::chrono::steady_clock;
using interface::AgencyClient;

constexpr int kBefore = 20, kAfter = 20;

// The agency's symbol for the resident, issued through the registry link.
Result<std::vector<uint8_t>> Issue(localnet::LocalNetwork& net, const std::string& agency,
                                   const std::string& code, const std::string& ref) {
  auto reg = AgencyClient::Connect(net.LocalEndpoint("REG-0001"));
  auto to = AgencyClient::Connect(net.LocalEndpoint(agency));
  if (!reg.ok()) return reg.status();
  if (!to.ok()) return to.status();
  IPN_RETURN_IF_ERROR((*reg)->RequestSymbol(agency, ref, code, (*reg)->NextRequestId()));
  std::vector<uint8_t> symbol;
  std::string refused;
  AgencyClient::Callbacks reg_cb;
  reg_cb.on_issue_response = [&](const v1::IssueSymbolResponse& r) {
    if (r.error_code() != v1::ERROR_CODE_NONE) refused = r.reason();
  };
  AgencyClient::Callbacks cb;
  cb.on_symbol = [&](interface::IssuedSymbol s) {
    if (s.person_ref == ref) symbol = std::move(s.symbol);
  };
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (symbol.empty() && refused.empty() && Clock::now() < deadline) {
    IPN_RETURN_IF_ERROR((*reg)->Poll(std::chrono::milliseconds(10), reg_cb));
    IPN_RETURN_IF_ERROR((*to)->Poll(std::chrono::milliseconds(10), cb));
  }
  if (!refused.empty()) return Status::Unavailable("symbol for " + agency + ": " + refused);
  if (symbol.empty()) return Status::DeadlineExceeded("no symbol for " + agency + " in 10 s");
  return symbol;
}

}  // namespace

Status RunFailoverPhase(localnet::LocalNetwork& net, const std::string& code,
                        const std::atomic<bool>& stop, FailoverSummary* out) {
  if (net.sites_size() < 2) return Status::FailedPrecondition("the network is not replicated");
  // The first resident again, under the person number the agencies know them by (the
  // middle-server platform has bound it to the same symbol already).
  Result<std::vector<uint8_t>> pen = Issue(net, "PEN-0001", code, DemoPersonRef(0));
  if (!pen.ok()) return pen.status();
  Result<std::vector<uint8_t>> mun = Issue(net, "MUN-131016", code, DemoPersonRef(0));
  if (!mun.ok()) return mun.status();
  auto client = AgencyClient::Connect(net.LocalEndpoint("PEN-0001"));
  if (!client.ok()) return client.status();
  int n = 0;
  // One inquiry; true when it was answered (provided or not held: a definite end).
  // Timed out quickly while no core answers: the failover is measured to the first
  // inquiry answered, not to the end of one sent into the gap.
  auto timeout = std::chrono::milliseconds(2000);
  auto inquire = [&] {
    interface::InquiryRequest r;
    r.request_id = "failover-" + std::to_string(n++);
    r.symbol = *pen;
    r.business = "np-benefit";
    r.provider = "MUN-131016";
    r.item = "local-tax";
    const std::string id = r.request_id;
    auto reply = (*client)->Inquire(std::move(r), timeout);
    if (!reply.ok()) return false;
    sodium_memzero(reply->payload.data(), reply->payload.size());
    if (reply->outcome != v1::OUTCOME_PROVIDED && reply->outcome != v1::OUTCOME_NOT_HELD) {
      return false;
    }
    out->told.push_back(id);
    return true;
  };
  for (int answered = 0; answered < kBefore;) {
    if (stop.load()) return Status::FailedPrecondition("interrupted");
    if (inquire()) ++answered;
    if (n > 10 * kBefore) return Status::Unavailable("the replicated core answers no inquiry");
  }
  const int leader = net.LeadingSite();
  if (leader < 0) return Status::Unavailable("no site says it leads");
  out->killed_site = leader == 0 ? "east" : "west";
  const auto killed = Clock::now();
  net.KillSite(static_cast<size_t>(leader));
  timeout = std::chrono::milliseconds(250);
  while (!inquire()) {
    if (stop.load()) return Status::FailedPrecondition("interrupted");
    if (Clock::now() - killed > std::chrono::seconds(60)) {
      return Status::Unavailable("no inquiry answered within 60 s of the leader's kill");
    }
  }
  out->failover_ms = std::chrono::duration<double, std::milli>(Clock::now() - killed).count();
  timeout = std::chrono::milliseconds(2000);
  const int now_leading = net.LeadingSite();
  out->new_leader = now_leading == 0 ? "east" : now_leading == 1 ? "west" : "?";
  // The killed site comes back, follows, and catches up by itself.
  IPN_RETURN_IF_ERROR(net.StartSite(static_cast<size_t>(leader)));
  for (int answered = 1; answered < kAfter;) {
    if (stop.load()) return Status::FailedPrecondition("interrupted");
    if (inquire()) ++answered;
  }
  out->answered = static_cast<int>(out->told.size());
  // Give the restarted follower its follow steps to take in the last batches.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return Status::Ok();
}

Status ReconcileSites(const localnet::LocalNetwork& net, FailoverSummary* out) {
  auto east = net.OpenSiteRecords(0);
  if (!east.ok()) return east.status().WithContext("east's records");
  auto west = net.OpenSiteRecords(1);
  if (!west.ok()) return west.status().WithContext("west's records");
  out->east_records = (*east)->Size();
  out->west_records = (*west)->Size();
  auto re = (*east)->RootHash(out->east_records);
  auto rw = (*west)->RootHash(out->west_records);
  out->heads_match = out->east_records == out->west_records && re.ok() && rw.ok() && *re == *rw;
  for (const auto* store : {east->get(), west->get()}) {
    std::set<std::string> accepted;
    Status s = store->Pull(0, INT64_MAX, "PEN-0001", [&](const records::Record& r) {
      if (r.event == records::Event::kInquiryAccepted) accepted.insert(r.request_id);
      return true;
    });
    IPN_RETURN_IF_ERROR(s);
    for (const std::string& id : out->told) {
      if (accepted.count(id) == 0) ++out->records_lost;
    }
  }
  return Status::Ok();
}

nlohmann::json FailoverSummary::ToJson() const {
  return {
      {"killed_site", killed_site},   {"new_leader", new_leader},
      {"failover_ms", failover_ms},   {"inquiries_answered", answered},
      {"records_lost", records_lost}, {"records", {{"east", east_records}, {"west", west_records}}},
      {"heads_match", heads_match}};
}

std::string FailoverSummary::ToText() const {
  char line[512];
  std::snprintf(
      line, sizeof(line),
      "failover: %s's core killed mid-run; %s led and answered again after %.0f ms; "
      "%d inquiries answered around it, %llu of them missing from a site's log; "
      "east %llu records, west %llu, heads %s\n",
      killed_site.c_str(), new_leader.c_str(), failover_ms, answered,
      static_cast<unsigned long long>(records_lost), static_cast<unsigned long long>(east_records),
      static_cast<unsigned long long>(west_records), heads_match ? "identical" : "DIFFERENT");
  return line;
}

}  // namespace ipn::cli
