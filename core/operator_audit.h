// OperatorAudit: operator actions at the core, as audit records (records/audit_record.h):
// the core's start and any key-ring change since the last start (rotations and
// retirements are done offline with `ipn keys`), policy loads (loaded or refused) and
// every agency status change a new bundle makes, and unrecordable messages refused at
// the door. Evidence is recorded before the action is acknowledged to anyone.
#pragma once

#include <functional>
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

// The records of the core's start: "core_start", and when the key ring differs from the
// summary `previous`, one "key_change" per new or changed key (its actor
// `key_change_actor`: who approved the change) — none on the first start (`first_start`;
// by default, when `previous` is empty) — and a "key_ring" record holding the new summary.
std::vector<records::AuditRecord> StartupAudit(const std::string& previous,
                                               const std::string& current, uint64_t policy_version,
                                               int64_t now_us,
                                               const std::string& key_change_actor = "operator",
                                               std::optional<bool> first_start = std::nullopt);

// Appends StartupAudit's records, durably, before the core serves anyone, then keeps the
// current summary in the store's metadata. The previous summary comes from there; a store
// from before that metadata falls back, once, to the newest "key_ring" audit record.
// `append`, when given, makes the records durable instead of the store's AppendBatch (a
// replicated core commits them through etcd first).
// `approvers_of`, when given, names who approved the change that left the ring with a
// summary (policy::KeyChangeApprovers, checked against the core's roster).
using AppendFn = std::function<Status(std::vector<records::Record>&)>;
using ApproversFn = std::function<std::string(const std::string& summary_after)>;
Status RecordStartup(records::RecordStore* store, const symbol::SymbolService& symbols,
                     uint64_t policy_version, int64_t now_us, const AppendFn& append = {},
                     const ApproversFn& approvers_of = {});

// The agencies whose status `after` changes from `before` (nullptr: no policy yet, every
// agency "absent" before): each with its status before and after, by name.
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
