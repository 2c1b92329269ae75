// OperatorAudit: operator actions at the core, as audit records (records/audit_record.h):
// the core's start and any key-ring change since the last start (rotations and
// retirements are done offline with `ipn keys`), policy loads (loaded or refused) and
// every agency status change a new bundle makes, and unrecordable messages refused at
// the door. Evidence is recorded before the action is acknowledged to anyone.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/logger.h"
#include "common/status.h"
#include "core/core_env.h"
#include "policy/policy.h"
#include "records/audit_record.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"

namespace ipn::core {

// The key ring's versions, sorted, to detect changes between starts (symbol/key_ring.h).
using symbol::KeyRingSummary;

// Who made each key change since the last start: by summary entry
// ("MUN-131016@v2:active"), and for the entries `by_key` does not name.
struct KeyChangeActors {
  std::map<std::string, std::string> by_key;
  std::string otherwise = "operator";
};

// The records of the core's start: "core_start", and when the key ring differs from the
// summary `previous`, one "key_change" per new or changed key (its actor from `actors`:
// who approved the change, or "unapproved") — none on the first start (`first_start`; by
// default, when `previous` is empty) — and a "key_ring" record holding the new summary.
std::vector<records::AuditRecord> StartupAudit(const std::string& previous,
                                               const std::string& current, uint64_t policy_version,
                                               int64_t now_us, const KeyChangeActors& actors = {},
                                               std::optional<bool> first_start = std::nullopt);

// Appends StartupAudit's records, durably, before the core serves anyone, then keeps the
// current summary in the store's metadata. The previous summary comes from there; a store
// from before that metadata falls back, once, to the newest "key_ring" audit record.
// `append`, when given, makes the records durable instead of the store's AppendBatch (a
// replicated core commits them through etcd first).
// `approvers_of`, when given, names who made the changes from one summary to another
// (policy::KeyChangeChain, checked against the core's roster). `also`: further records of
// the start (a changed bundle or replica set taken into force, with its approvers).
using AppendFn = std::function<Status(std::vector<records::Record>&)>;
using ApproversFn =
    std::function<KeyChangeActors(const std::string& before, const std::string& after)>;
Status RecordStartup(records::RecordStore* store, const symbol::SymbolService& symbols,
                     uint64_t policy_version, int64_t now_us, const AppendFn& append = {},
                     const ApproversFn& approvers_of = {},
                     const std::vector<records::AuditRecord>& also = {});

// The policy version the store's operator-action records last name as in force (the
// newest "core_start" or loaded "policy_load"), 0 when there is none: a start may not go
// back below it. Scans at most 20,000 audit records, newest first.
Result<uint64_t> LastRecordedPolicyVersion(records::RecordStore* store);

// The agencies whose standing `after` changes from `before` (nullptr: no policy yet, every
// agency "absent" before) — status, class, node key, or dropped from the bundle
// ("absent") — each with its standing before and after ("active", "suspended, class X",
// "active, key 3b6a27bc…").
struct AgencyStatusChange {
  std::string agency, was, now;
};
std::vector<AgencyStatusChange> AgencyStatusChanges(const policy::Policy* before,
                                                    const policy::Policy& after);

// A policy load's audit records: "policy_load" (ok or refused) and, when it was loaded,
// one "agency_status_change" per agency whose status differs between the two bundles.
std::vector<records::AuditRecord> PolicyLoadAudit(const policy::Policy& before,
                                                  const policy::Policy& after, const Status& load,
                                                  const std::string& file, int64_t now_us);

}  // namespace ipn::core
