// Configuration a core starts with, under the two-person rule (権限分離, issue #15): the
// policy bundle in force at start and the replica set (the sites of a replicated core).
// Either may be changed only while the core is stopped, by whoever installs its files; so
// a start whose bundle or replica set differs from the one in force at the last start
// takes it into force only with the approvals the operator roster requires for its action
// ("policy_load" on the bundle's bytes, BUNDLE.approvals; "replica_change" on the replica
// set file's, FILE.approvals) — otherwise the core refuses to start, saying so. The first
// start installs what it is given.
//
// The replica set file (`ipn replica request --sites east,west,witness`):
//
//   ipn-replica-set/1
//   site east
//   site west
//
// sites sorted, each once.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/two_person.h"

namespace ipn::policy {

inline constexpr char kReplicaChangeAction[] = "replica_change";

std::string FormatReplicaSet(std::vector<std::string> sites);
// The sites, sorted; InvalidArgument naming what is wrong (no site, a site twice, a name
// that is not 1–32 of a-z 0-9 '-', a line that is not "site NAME").
Result<std::vector<std::string>> ParseReplicaSet(std::string_view text);

// What a start changes: nothing (the same as at the last start, or the first start), or a
// change, taken with `actor`'s approvals ("alice+bob"; "operator" when the roster has no
// rule for the action).
struct StartChange {
  bool changed = false;
  std::string previous;  // what was in force (the kept form), when changed
  std::string actor;
};

// Compares `kept_form` (what identifies the configuration: the replica set's text, the
// bundle's SHA-256) with the one kept at `kept_path` at the last start and, when they
// differ, checks `approvals_path` for `action` on `bytes`. PermissionDenied saying what is
// missing when the roster requires approvals the file does not hold.
Result<StartChange> CheckStartConfig(const OperatorRoster* roster, std::string_view action,
                                     std::span<const uint8_t> bytes,
                                     const std::string& approvals_path,
                                     const std::string& kept_path, std::string_view kept_form);

// Keeps `kept_form` at `kept_path` as in force (after the start is recorded).
Status KeepStartConfig(const std::string& kept_path, std::string_view kept_form);

}  // namespace ipn::policy
