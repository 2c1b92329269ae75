// CoreRouter::Impl::ReloadPolicy: a policy bundle loaded while the core runs (SIGHUP).
// With an operator roster (policy/two_person.h) it takes effect only with the approvals
// the roster requires: "policy_load" on the bundle's bytes (BUNDLE.approvals), and, when
// the bundle changes any agency's status, "agency_status" on the same bytes
// (BUNDLE.agency_status.approvals). Every load, refused or not, is an operator-action
// record naming the approvers, and so is every status change it makes. The bundle and
// the replica set the core starts with follow the same rule when they changed since the
// last start (LoadStartBundle, LoadReplicaSet).
#include <algorithm>
#include <optional>

#include "common/file_util.h"
#include "core/core_router_impl.h"
#include "core/core_stats.h"
#include "core/operator_audit.h"
#include "policy/start_config.h"

namespace ipn::core {
namespace {

// One action's approvals on `bytes`: the approvers, or the refusal (with, in `named`, who
// the file names, for the record of a refusal).
Result<std::vector<std::string>> Approvals(const policy::OperatorRoster& roster,
                                           const std::string& action,
                                           std::span<const uint8_t> bytes, const std::string& file,
                                           std::vector<std::string>* named) {
  Result<std::string> text = ReadFile(file);
  const std::string approvals = text.ok() ? *text : std::string();
  Result<std::vector<std::string>> approvers =
      policy::CheckApprovals(roster, action, bytes, approvals);
  *named = approvers.ok() ? *approvers : policy::NamedApprovers(approvals);
  return approvers;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

records::AuditRecord StartAction(std::string action, std::string agency, std::string detail,
                                 std::string actor, int64_t now_us, std::string outcome = "ok") {
  records::AuditRecord a;
  a.time_unix_us = now_us;
  a.actor = std::move(actor);
  a.agency = std::move(agency);
  a.action = std::move(action);
  a.detail = std::move(detail);
  a.outcome = std::move(outcome);
  return a;
}

std::string JoinSites(const std::vector<std::string>& sites) {
  std::string out;
  for (const std::string& s : sites) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

// A start refused for its configuration: in the core's log always, and — a core of its
// own, whose record store is open — as an operator-action record too (a replicated core
// records nothing until it leads; its refusal is in its log).
Status CoreRouter::Impl::RefuseStart(const std::string& what, const Status& why) {
  log_->Error("start_refused", {{"configuration", what}, {"reason", why.message()}});
  if (records_ != nullptr && replica_ == nullptr) {
    std::vector<records::Record> batch = {records::ToRecord(StartAction(
        "start_refused", "", what, "operator", NowMicros(), "refused: " + why.message()))};
    if (Status s = records_->AppendBatch(batch); !s.ok()) {
      log_->Error("start_refusal_unrecorded", {{"error", s.message()}});
    }
  }
  return Status::PermissionDenied("refusing to start with " + what + ": " + why.message());
}

// The replica set a replicated core starts with (before etcd is opened: it names the
// sites). With a replica_change rule it needs its approvals at every start, and its
// version may not go down: an older, once-approved set cannot be brought back.
Status CoreRouter::Impl::LoadReplicaSet() {
  const policy::OperatorRoster* roster = roster_ ? &*roster_ : nullptr;
  if (options_.replica_set_file.empty()) {
    if (roster != nullptr && roster->rules.count(policy::kReplicaChangeAction) != 0 &&
        !options_.etcd_endpoints.empty()) {
      return RefuseStart("sites given by --sites",
                         Status::FailedPrecondition(
                             "the operator roster requires approvals for the replica set "
                             "(replica_change): give the sites as an approved replica set file "
                             "(--replica-set FILE; ipn replica request|approve)"));
    }
    return Status::Ok();
  }
  const std::string& file = options_.replica_set_file;
  Result<std::string> text = ReadFile(file);
  if (!text.ok()) return text.status().WithContext("replica set");
  Result<policy::ReplicaSet> set = policy::ParseReplicaSet(*text);
  if (!set.ok()) return set.status().WithContext(file);
  if (options_.etcd_endpoints.empty()) {
    return Status::InvalidArgument("a replica set is for a replicated core (--etcd)");
  }
  std::vector<std::string> given = options_.sites;
  std::sort(given.begin(), given.end());
  if (!given.empty() && given != set->sites) {
    return Status::InvalidArgument("--sites and the replica set " + file + " name different sites");
  }
  if (std::find(set->sites.begin(), set->sites.end(), options_.site) == set->sites.end()) {
    return Status::InvalidArgument("this site (" + options_.site + ") is not in the replica set " +
                                   file);
  }
  const std::string kept = options_.data_dir + "/replica_set_in_force.txt";
  Result<policy::StartChange> change = policy::CheckStartConfig(
      roster, policy::kReplicaChangeAction, Bytes(*text), file + ".approvals", kept, *text);
  if (!change.ok()) return RefuseStart("the replica set " + file, change.status());
  Result<policy::ReplicaSet> was = policy::ParseReplicaSet(change->previous);
  if (was.ok() &&
      (set->version < was->version || (set->version == was->version && change->changed))) {
    return RefuseStart("the replica set " + file,
                       Status::PermissionDenied("its version " + std::to_string(set->version) +
                                                " does not come after the set in force (version " +
                                                std::to_string(was->version) + ")"));
  }
  if (change->changed) {
    start_changes_.push_back(StartAction(
        "replica_change", "",
        "version " + std::to_string(set->version) + ": sites " + JoinSites(set->sites) + " (were " +
            (was.ok() ? JoinSites(was->sites) : std::string("none recorded here")) + ")",
        change->actor, NowMicros()));
  }
  options_.sites = set->sites;
  start_kept_.emplace_back(kept, *text);
  return Status::Ok();
}

// The policy bundle the core starts with (after the record store is open). With a
// policy_load rule it needs its officers' approvals at every start, and its standing
// changes against the bundle last in force the registrars' too; a core of its own also
// refuses a bundle older than the one its records last name (a replicated core's floor is
// kept in etcd).
Status CoreRouter::Impl::LoadStartBundle() {
  const policy::OperatorRoster* roster = roster_ ? &*roster_ : nullptr;
  const std::string& file = options_.policy_bundle_file;
  Result<std::string> bundle = ReadFile(file);
  if (!bundle.ok()) return bundle.status().WithContext("policy");
  IPN_RETURN_IF_ERROR(policy_->Load(Bytes(*bundle)).WithContext("policy"));
  const uint64_t version = policy_->Current()->version();
  if (replica_ == nullptr) {
    Result<uint64_t> floor = LastRecordedPolicyVersion(records_.get());
    if (!floor.ok()) return floor.status().WithContext("reading the policy version last in force");
    if (version < *floor) {
      return RefuseStart("the policy bundle " + file,
                         Status::PermissionDenied("its version " + std::to_string(version) +
                                                  " is older than version " +
                                                  std::to_string(*floor) + " last in force"));
    }
  }
  const std::string kept = options_.data_dir + "/policy_in_force.ipnp";
  Result<policy::StartChange> change = policy::CheckStartConfig(
      roster, "policy_load", Bytes(*bundle), file + ".approvals", kept, *bundle);
  if (!change.ok()) return RefuseStart("the policy bundle " + file, change.status());
  start_kept_.emplace_back(kept, *bundle);
  // Recorded when it changed since the last start, or when approvers took it into force
  // (a first start under the rule names them); the start's own record names its version.
  const bool rule = roster != nullptr && roster->rules.count("policy_load") != 0;
  if (!change->changed || (change->previous.empty() && !rule)) return Status::Ok();
  // Standing changes against the bundle last in force (every agency's, when none is kept
  // or it no longer verifies) are the agency registrars' to approve, as in ReloadPolicy.
  policy::PolicyStore previous(options_.admin_public_key);
  const policy::Policy* was =
      !change->previous.empty() && previous.Load(Bytes(change->previous)).ok()
          ? previous.Current().get()
          : nullptr;
  const std::vector<AgencyStatusChange> changes = AgencyStatusChanges(was, *policy_->Current());
  std::string status_actor;
  if (!changes.empty() && roster != nullptr && roster->rules.count("agency_status") != 0) {
    std::vector<std::string> named;
    Result<std::vector<std::string>> registrars = Approvals(
        *roster, "agency_status", Bytes(*bundle), file + ".agency_status.approvals", &named);
    if (!registrars.ok()) {
      return RefuseStart(
          "the policy bundle " + file,
          registrars.status().WithContext("changing the standing of " + changes[0].agency));
    }
    status_actor = policy::JoinApprovers(*registrars);
  }
  const int64_t now = NowMicros();
  start_changes_.push_back(StartAction(
      "policy_load", "", "version " + std::to_string(version) + " at start",
      change->actor + (status_actor.empty() ? "" : "; agency status: " + status_actor), now));
  for (const AgencyStatusChange& c : changes) {
    start_changes_.push_back(StartAction("agency_status_change", c.agency, c.was + " -> " + c.now,
                                         status_actor.empty() ? change->actor : status_actor, now));
  }
  return Status::Ok();
}

// What the start took into force, kept once its records are durable: a crash in between
// leaves the old, and the next start checks and records the change again.
Status CoreRouter::Impl::KeepStartConfiguration() {
  for (const auto& [path, form] : start_kept_) {
    IPN_RETURN_IF_ERROR(policy::KeepStartConfig(path, form).WithContext("keeping " + path));
  }
  start_kept_.clear();
  return Status::Ok();
}

void CoreRouter::Impl::ReloadPolicy() {
  std::shared_ptr<const policy::Policy> before = policy_->Current();
  std::string actor = "operator";
  std::string status_actor;  // who approved the agency status changes, when required
  Status s = Status::Ok();
  // The bytes checked are the bytes loaded and kept: read once.
  Result<std::string> bundle = ReadFile(options_.policy_bundle_file);
  if (!bundle.ok()) {
    s = bundle.status();
  } else if (!roster_) {
    s = policy_->Load(Bytes(*bundle));
  } else {
    const std::span<const uint8_t> bytes = Bytes(*bundle);
    std::vector<std::string> named;
    Result<std::vector<std::string>> approvers = Approvals(
        *roster_, "policy_load", bytes, options_.policy_bundle_file + ".approvals", &named);
    if (!named.empty()) actor = policy::JoinApprovers(named);
    // Changing an agency's status is the agency registrars' to approve: checked on the
    // verified candidate, before it is swapped in.
    auto status_gate = [&](const policy::Policy* in_force,
                           const policy::Policy& candidate) -> Status {
      const std::vector<AgencyStatusChange> changes = AgencyStatusChanges(in_force, candidate);
      if (changes.empty() || roster_->rules.count("agency_status") == 0) return Status::Ok();
      std::vector<std::string> status_named;
      Result<std::vector<std::string>> registrars =
          Approvals(*roster_, "agency_status", bytes,
                    options_.policy_bundle_file + ".agency_status.approvals", &status_named);
      status_actor = policy::JoinApprovers(status_named);
      if (!registrars.ok()) {
        return registrars.status().WithContext("changing the status of " + changes[0].agency +
                                               " (" + changes[0].was + " -> " + changes[0].now +
                                               ")");
      }
      return Status::Ok();
    };
    s = approvers.ok() ? policy_->Load(bytes, status_gate) : approvers.status();
    if (!status_actor.empty()) actor += "; agency status: " + status_actor;
  }
  std::shared_ptr<const policy::Policy> after = policy_->Current();
  if (!s.ok()) {
    log_->Error("policy_refused",
                {{"reason", s.ToString()}, {"version_in_force", after->version()}});
    stats_->policy_loads_refused.Add();
  } else {
    log_->Info("policy_loaded", {{"version", after->version()}});
    // The bundle now in force is the next start's baseline.
    if (Status k = policy::KeepStartConfig(options_.data_dir + "/policy_in_force.ipnp", *bundle);
        !k.ok()) {
      log_->Error("policy_keep_failed", {{"error", k.message()}});
    }
    // Peers suspended or re-keyed, rates changed: every node hears it now.
    SendWelcomes(nodes_.Agencies());
    stats_->policy_version.Set(static_cast<int64_t>(after->version()));
    if (replica_) (void)replica_->PublishPolicy(after->version());  // the sites' floor
  }
  for (const records::AuditRecord& a :
       PolicyLoadAudit(*before, *after, s, options_.policy_bundle_file, NowMicros())) {
    records::AuditRecord named = a;
    // The approving operators, when the two-person rule holds: a status change names the
    // registrars who approved it, the load the officers (and the registrars, if any).
    named.actor =
        a.action == "agency_status_change" && !status_actor.empty() ? status_actor : actor;
    AddRecord(records::ToRecord(named));
  }
}

}  // namespace ipn::core
