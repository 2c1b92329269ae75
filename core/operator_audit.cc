// OperatorAudit: start-up, key-ring and policy-load audit records.
#include "core/operator_audit.h"

#include <algorithm>
#include <set>

#include "common/encoding.h"

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

// The newest audit record `match` accepts, scanning at most 20,000 audit records newest
// first; nullopt when there is none.
Result<std::optional<records::AuditRecord>> NewestAudit(
    records::RecordStore* store, const std::function<bool(const records::AuditRecord&)>& match) {
  std::string token;
  for (int page = 0; page < 20; ++page) {
    Result<records::RecordStore::HistoryPage> h =
        store->History(records::kAuditRecordSymbol, 1000, token);
    if (!h.ok()) return h.status().WithContext("reading the audit records");
    for (const records::Record& r : h->records) {
      std::optional<records::AuditRecord> a = records::AuditRecordOf(r);
      if (a && match(*a)) return a;
    }
    token = h->next_page_token;
    if (token.empty()) break;
  }
  return std::optional<records::AuditRecord>();
}

// A store written before the summary was kept in its metadata: the newest "key_ring"
// audit record's outcome. Runs once: the start that reads it writes the metadata.
// Nothing (nullopt) on the first start.
Result<std::optional<std::string>> ScanForPreviousSummary(records::RecordStore* store) {
  Result<std::optional<records::AuditRecord>> a =
      NewestAudit(store, [](const records::AuditRecord& r) { return r.action == "key_ring"; });
  if (!a.ok()) return a.status();
  return *a ? std::optional<std::string>((*a)->outcome) : std::optional<std::string>();
}

// The summary the last start saw; nullopt when there was no start before.
Result<std::optional<std::string>> PreviousSummary(records::RecordStore* store) {
  Result<std::string> kept = store->GetMeta(kKeyRingSummaryMeta);
  if (kept.ok()) return std::optional<std::string>(std::move(*kept));
  if (kept.status().code() != Status::Code::kNotFound) return kept.status();
  return ScanForPreviousSummary(store);
}

// "policy version 7", "version 7", "version 7 at start": 7; 0 otherwise.
uint64_t VersionIn(const std::string& detail) {
  const size_t at = detail.find("version ");
  if (at == std::string::npos) return 0;
  uint64_t v = 0;
  for (size_t i = at + 8; i < detail.size() && detail[i] >= '0' && detail[i] <= '9'; ++i) {
    if (v > UINT64_MAX / 10 - 10) return 0;
    v = v * 10 + static_cast<uint64_t>(detail[i] - '0');
  }
  return v;
}

}  // namespace

Result<uint64_t> LastRecordedPolicyVersion(records::RecordStore* store) {
  Result<std::optional<records::AuditRecord>> a =
      NewestAudit(store, [](const records::AuditRecord& r) {
        return r.action == "core_start" || (r.action == "policy_load" && r.outcome == "ok");
      });
  if (!a.ok()) return a.status();
  return *a ? VersionIn((*a)->detail) : uint64_t{0};
}

std::vector<records::AuditRecord> StartupAudit(const std::string& previous,
                                               const std::string& current, uint64_t policy_version,
                                               int64_t now_us, const KeyChangeActors& actors,
                                               std::optional<bool> first_start) {
  std::vector<records::AuditRecord> out;
  out.push_back(
      Operator("core_start", "", "policy version " + std::to_string(policy_version), "ok", now_us));
  if (previous == current) return out;
  const std::set<std::string> old_set = SplitSummary(previous), new_set = SplitSummary(current);
  if (!first_start.value_or(previous.empty())) {  // on the first start every key is new

    for (const std::string& k : new_set) {
      if (old_set.count(k) == 0) {
        const std::string agency = k.starts_with("#") ? "" : k.substr(0, k.find('@'));
        out.push_back(Operator("key_change", agency, k, "ok", now_us));
        auto by = actors.by_key.find(k);
        out.back().actor = by != actors.by_key.end() ? by->second : actors.otherwise;
      }
    }
  }
  out.push_back(
      Operator("key_ring", "", std::to_string(new_set.size()) + " keys", current, now_us));
  return out;
}

Status RecordStartup(records::RecordStore* store, const symbol::SymbolService& symbols,
                     uint64_t policy_version, int64_t now_us, const AppendFn& append,
                     const ApproversFn& approvers_of,
                     const std::vector<records::AuditRecord>& also) {
  Result<std::optional<std::string>> previous = PreviousSummary(store);
  if (!previous.ok()) return previous.status().WithContext("reading the last key-ring summary");
  std::string before = previous->value_or("");
  const std::string current = symbols.KeySummary();
  // A summary kept before it held the records key's version: that key taken as unchanged.
  if (previous->has_value() && before.find("#records@") == std::string::npos) {
    const size_t at = current.find("#records@");
    if (at != std::string::npos) {
      std::set<std::string> entries = SplitSummary(before);
      entries.insert(current.substr(at, current.find(',', at) - at));
      before.clear();
      for (const std::string& e : entries) before += (before.empty() ? "" : ",") + e;
    }
  }
  const KeyChangeActors actors =
      approvers_of && before != current ? approvers_of(before, current) : KeyChangeActors{};
  std::vector<records::Record> batch;
  // A ring that was empty at the last start (agencies' keys made since, at first use) is
  // not a first start: its new keys are changes like any other.
  for (const records::AuditRecord& a :
       StartupAudit(before, current, policy_version, now_us, actors, !previous->has_value())) {
    batch.push_back(records::ToRecord(a));
  }
  for (const records::AuditRecord& a : also) batch.push_back(records::ToRecord(a));
  IPN_RETURN_IF_ERROR((append ? append(batch) : store->AppendBatch(batch))
                          .WithContext("recording the core's start"));
  // After the records, never before: a crash in between leaves the old summary, and the
  // next start records the key changes again rather than not at all. Written on every
  // start, so that a store from before this metadata gets it at its first start.
  return store->PutMeta(kKeyRingSummaryMeta, current).WithContext("keeping the key-ring summary");
}

std::vector<AgencyStatusChange> AgencyStatusChanges(const policy::Policy* before,
                                                    const policy::Policy& after) {
  // An agency's standing: its status, and — when they change — its class and its node's
  // key (who may speak as it), which are the registrars' to approve as much as a suspension.
  auto standing = [](const policy::Agency* a, const policy::Agency* other) -> std::string {
    if (a == nullptr) return "absent";
    std::string out = AgencyStatusName(a->status);
    if (other == nullptr) return out;
    if (a->agency_class != other->agency_class) out += ", class " + a->agency_class;
    if (a->curve_public_key != other->curve_public_key) {
      out += ", key " + (a->curve_public_key ? HexEncode(*a->curve_public_key).substr(0, 16) + "…"
                                             : std::string("none"));
    }
    return out;
  };
  std::vector<AgencyStatusChange> out;
  for (const policy::Agency& a : after.agencies()) {
    const policy::Agency* old = before == nullptr ? nullptr : before->FindAgency(a.code);
    std::string was = standing(old, &a), now = standing(&a, old);
    if (was != now) out.push_back({a.code, std::move(was), std::move(now)});
  }
  if (before == nullptr) return out;
  for (const policy::Agency& a : before->agencies()) {  // dropped from the bundle
    if (after.FindAgency(a.code) == nullptr) {
      out.push_back({a.code, AgencyStatusName(a.status), "absent"});
    }
  }
  return out;
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
  for (const AgencyStatusChange& c : AgencyStatusChanges(&before, after)) {
    out.push_back(Operator("agency_status_change", c.agency, c.was + " -> " + c.now, "ok", now_us));
  }
  return out;
}

}  // namespace ipn::core
