// OperatorAudit: start-up, key-ring and policy-load audit records.
#include "core/operator_audit.h"

#include <algorithm>
#include <set>

namespace ipn::core {
namespace {

const char* AgencyStatusName(policy::AgencyStatus s) {
  switch (s) {
    case policy::AgencyStatus::kActive: return "active";
    case policy::AgencyStatus::kSuspended: return "suspended";
    case policy::AgencyStatus::kRetired: return "retired";
  }
  return "unknown";
}

std::set<std::string> SplitSummary(const std::string& s) {
  std::set<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.insert(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

records::AuditRecord Operator(std::string action, std::string agency, std::string detail,
                              std::string outcome, int64_t now_us) {
  records::AuditRecord a;
  a.time_unix_us = now_us;
  a.actor = "operator";
  a.agency = std::move(agency);
  a.action = std::move(action);
  a.detail = std::move(detail);
  a.outcome = std::move(outcome);
  return a;
}

// The store metadata holding the key-ring summary the last start saw.
constexpr char kKeyRingSummaryMeta[] = "core.key_ring_summary";

// A store written before the summary was kept in its metadata: the newest "key_ring"
// audit record's outcome, scanning at most 20,000 audit records newest first. Runs once:
// the start that reads it writes the metadata.
Result<std::string> ScanForPreviousSummary(records::RecordStore* store) {
  std::string token;
  for (int page = 0; page < 20; ++page) {
    Result<records::RecordStore::HistoryPage> h =
        store->History(records::kAuditRecordSymbol, 1000, token);
    if (!h.ok()) return h.status().WithContext("reading the audit records");
    for (const records::Record& r : h->records) {
      std::optional<records::AuditRecord> a = records::AuditRecordOf(r);
      if (a && a->action == "key_ring") return a->outcome;
    }
    token = h->next_page_token;
    if (token.empty()) break;
  }
  return std::string();
}

Result<std::string> PreviousSummary(records::RecordStore* store) {
  Result<std::string> kept = store->GetMeta(kKeyRingSummaryMeta);
  if (kept.ok() || kept.status().code() != Status::Code::kNotFound) return kept;
  return ScanForPreviousSummary(store);
}

}  // namespace

std::string KeyRingSummary(const std::vector<symbol::KeyInfo>& keys) {
  std::vector<std::string> parts;
  for (const symbol::KeyInfo& k : keys) {
    parts.push_back(k.agency + "@v" + std::to_string(k.version) + ":" +
                    symbol::KeyStateName(k.state));
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::vector<records::AuditRecord> StartupAudit(const std::string& previous,
                                               const std::string& current, uint64_t policy_version,
                                               int64_t now_us) {
  std::vector<records::AuditRecord> out;
  out.push_back(
      Operator("core_start", "", "policy version " + std::to_string(policy_version), "ok", now_us));
  if (previous == current) return out;
  const std::set<std::string> old_set = SplitSummary(previous), new_set = SplitSummary(current);
  if (!previous.empty()) {  // on the first start every key is new: no key_change noise
    for (const std::string& k : new_set) {
      if (old_set.count(k) == 0) {
        out.push_back(Operator("key_change", k.substr(0, k.find('@')), k, "ok", now_us));
      }
    }
  }
  out.push_back(
      Operator("key_ring", "", std::to_string(new_set.size()) + " keys", current, now_us));
  return out;
}

Status RecordStartup(records::RecordStore* store, const symbol::SymbolService& symbols,
                     uint64_t policy_version, int64_t now_us, const AppendFn& append) {
  Result<std::string> previous = PreviousSummary(store);
  if (!previous.ok()) return previous.status().WithContext("reading the last key-ring summary");
  const std::string current = KeyRingSummary(symbols.ListKeys());
  std::vector<records::Record> batch;
  for (const records::AuditRecord& a : StartupAudit(*previous, current, policy_version, now_us)) {
    batch.push_back(records::ToRecord(a));
  }
  IPN_RETURN_IF_ERROR((append ? append(batch) : store->AppendBatch(batch))
                          .WithContext("recording the core's start"));
  // After the records, never before: a crash in between leaves the old summary, and the
  // next start records the key changes again rather than not at all. Written on every
  // start, so that a store from before this metadata gets it at its first start.
  return store->PutMeta(kKeyRingSummaryMeta, current).WithContext("keeping the key-ring summary");
}

std::vector<records::AuditRecord> PolicyLoadAudit(const policy::Policy& before,
                                                  const policy::Policy& after, const Status& load,
                                                  const std::string& file, int64_t now_us) {
  std::vector<records::AuditRecord> out;
  if (!load.ok()) {
    out.push_back(
        Operator("policy_load", "", "file " + file, "refused: " + load.message(), now_us));
    return out;
  }
  out.push_back(
      Operator("policy_load", "", "version " + std::to_string(after.version()), "ok", now_us));
  for (const policy::Agency& a : after.agencies()) {
    const policy::Agency* old = before.FindAgency(a.code);
    const std::string was = old == nullptr ? "absent" : AgencyStatusName(old->status);
    const std::string now = AgencyStatusName(a.status);
    if (was != now) {
      out.push_back(Operator("agency_status_change", a.code, was + " -> " + now, "ok", now_us));
    }
  }
  return out;
}

}  // namespace ipn::core
