// Configuration a core starts with, under the two-person rule (権限分離, issue #15): the
// policy bundle in force at start and the replica set (the sites of a replicated core).
// Either can be changed while the core is stopped by whoever installs its files, so when
// the operator roster has a rule for the action ("policy_load" on the bundle's bytes,
// BUNDLE.approvals; "replica_change" on the replica set file's, FILE.approvals) the core
// starts with it only with those approvals — every start, the first one too — and
// otherwise refuses to start, saying so. What was in force at the last start is kept to
// tell what changed (to record it, naming the approvers) and to refuse going back to an
// older, once-approved configuration (its version must not go down).
//
// The replica set file (`ipn replica request --version 3 --sites east,west,witness`):
//
//   ipn-replica-set/1
//   version 3
//   site east
//   site west
//   site witness
//
// the version counting up with each change, sites sorted, each once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/two_person.h"

namespace ipn::policy {

inline constexpr char kReplicaChangeAction[] = "replica_change";

struct ReplicaSet {
  uint64_t version = 0;
  std::vector<std::string> sites;  // sorted, each once
};

std::string FormatReplicaSet(ReplicaSet set);
// InvalidArgument naming what is wrong (no version or 0, no site, a site twice or out of
// order, a name that is not 1–32 of a-z 0-9 '-', a line that is not "site NAME").
Result<ReplicaSet> ParseReplicaSet(std::string_view text);

// What a start takes into force: whether it differs from what was kept at the last start
// (`previous`: the kept form; empty when nothing was kept), and whose approvals it carries
// ("alice+bob"; "operator" when the roster has no rule for the action).
struct StartChange {
  bool changed = false;
  std::string previous;
  std::string actor;
};

// Compares `kept_form` (the configuration's bytes) with the one kept at
// `kept_path`, and — when the roster has a rule for `action` — checks `approvals_path`
// for it on `bytes`, changed or not. PermissionDenied saying what is missing otherwise.
Result<StartChange> CheckStartConfig(const OperatorRoster* roster, std::string_view action,
                                     std::span<const uint8_t> bytes,
                                     const std::string& approvals_path,
                                     const std::string& kept_path, std::string_view kept_form);

// Keeps `kept_form` at `kept_path` as in force (after the start is recorded).
Status KeepStartConfig(const std::string& kept_path, std::string_view kept_form);

}  // namespace ipn::policy
