// CoreRouter::Impl::ReloadPolicy: a policy bundle loaded while the core runs (SIGHUP).
// With an operator roster (policy/two_person.h) it takes effect only with the approvals
// the roster requires: "policy_load" on the bundle's bytes (BUNDLE.approvals), and, when
// the bundle changes any agency's status, "agency_status" on the same bytes
// (BUNDLE.agency_status.approvals). Every load, refused or not, is an operator-action
// record naming the approvers, and so is every status change it makes. The bundle and
// the replica set the core starts with follow the same rule when they changed since the
// last start (LoadStartConfiguration).
#include <algorithm>
#include <optional>

#include "common/file_util.h"
#include "core/core_router_impl.h"
#include "core/core_stats.h"
#include "core/operator_audit.h"
#include "policy/start_config.h"

namespace ipn::core {
namespace {

// "alice+bob": the approvers, in file order.
std::string Actors(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : "+") + id;
  return out;
}

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
                                 std::string actor, int64_t now_us) {
  records::AuditRecord a;
  a.time_unix_us = now_us;
  a.actor = std::move(actor);
  a.agency = std::move(agency);
  a.action = std::move(action);
  a.detail = std::move(detail);
  a.outcome = "ok";
  return a;
}

std::string JoinSites(const std::vector<std::string>& sites) {
  std::string out;
  for (const std::string& s : sites) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

// The policy bundle and the replica set the core starts with. What differs from the last
// start takes effect only with its approvals (policy/start_config.h); a start without them
// is refused, in the core's log and to whoever started it, and nothing is recorded.
Status CoreRouter::Impl::LoadStartConfiguration() {
  const policy::OperatorRoster* roster = roster_ ? &*roster_ : nullptr;
  auto refuse = [this](const std::string& what, const Status& why) {
    log_->Error("start_refused", {{"configuration", what}, {"reason", why.message()}});
    return Status::PermissionDenied("refusing to start with " + what + ": " + why.message());
  };
  const std::string& file = options_.policy_bundle_file;
  Result<std::string> bundle = ReadFile(file);
  if (!bundle.ok()) return bundle.status().WithContext("policy");
  IPN_RETURN_IF_ERROR(policy_->Load(Bytes(*bundle)).WithContext("policy"));
  const std::string kept_bundle = options_.data_dir + "/policy_in_force.ipnp";
  Result<policy::StartChange> change = policy::CheckStartConfig(
      roster, "policy_load", Bytes(*bundle), file + ".approvals", kept_bundle, *bundle);
  if (!change.ok()) return refuse("the policy bundle " + file, change.status());
  const int64_t now = NowMicros();
  if (change->changed) {
    // Status changes against the bundle last in force (every agency's, when that one no
    // longer verifies) are the agency registrars' to approve, as in ReloadPolicy.
    policy::PolicyStore previous(options_.admin_public_key);
    const policy::Policy* was =
        previous.Load(Bytes(change->previous)).ok() ? previous.Current().get() : nullptr;
    const std::vector<AgencyStatusChange> changes = AgencyStatusChanges(was, *policy_->Current());
    std::string status_actor;
    if (!changes.empty() && roster != nullptr && roster->rules.count("agency_status") != 0) {
      std::vector<std::string> named;
      Result<std::vector<std::string>> registrars = Approvals(
          *roster, "agency_status", Bytes(*bundle), file + ".agency_status.approvals", &named);
      if (!registrars.ok()) {
        return refuse(
            "the policy bundle " + file,
            registrars.status().WithContext("changing the standing of " + changes[0].agency));
      }
      status_actor = Actors(*registrars);
    }
    start_changes_.push_back(StartAction(
        "policy_load", "", "version " + std::to_string(policy_->Current()->version()) + " at start",
        change->actor + (status_actor.empty() ? "" : "; agency status: " + status_actor), now));
    for (const AgencyStatusChange& c : changes) {
      start_changes_.push_back(StartAction("agency_status_change", c.agency, c.was + " -> " + c.now,
                                           status_actor.empty() ? change->actor : status_actor,
                                           now));
    }
  }
  start_kept_.emplace_back(kept_bundle, *bundle);

  if (options_.replica_set_file.empty()) {
    if (roster != nullptr && roster->rules.count(policy::kReplicaChangeAction) != 0 &&
        !options_.etcd_endpoints.empty()) {
      return refuse("sites given by --sites",
                    Status::FailedPrecondition(
                        "the operator roster requires approvals for the replica set "
                        "(replica_change): give the sites as an approved replica set file "
                        "(--replica-set FILE; ipn replica request|approve)"));
    }
    return Status::Ok();
  }
  const std::string& set_file = options_.replica_set_file;
  Result<std::string> text = ReadFile(set_file);
  if (!text.ok()) return text.status().WithContext("replica set");
  Result<std::vector<std::string>> sites = policy::ParseReplicaSet(*text);
  if (!sites.ok()) return sites.status().WithContext(set_file);
  if (options_.etcd_endpoints.empty()) {
    return Status::InvalidArgument("a replica set is for a replicated core (--etcd)");
  }
  std::vector<std::string> given = options_.sites;
  std::sort(given.begin(), given.end());
  if (!given.empty() && given != *sites) {
    return Status::InvalidArgument("--sites and the replica set " + set_file +
                                   " name different sites");
  }
  if (std::find(sites->begin(), sites->end(), options_.site) == sites->end()) {
    return Status::InvalidArgument("this site (" + options_.site + ") is not in the replica set " +
                                   set_file);
  }
  const std::string kept_set = options_.data_dir + "/replica_set_in_force.txt";
  Result<policy::StartChange> set_change = policy::CheckStartConfig(
      roster, policy::kReplicaChangeAction, Bytes(*text), set_file + ".approvals", kept_set, *text);
  if (!set_change.ok()) return refuse("the replica set " + set_file, set_change.status());
  if (set_change->changed) {
    Result<std::vector<std::string>> were = policy::ParseReplicaSet(set_change->previous);
    start_changes_.push_back(StartAction(
        "replica_change", "",
        "sites " + JoinSites(*sites) + " (were " + (were.ok() ? JoinSites(*were) : "unknown") + ")",
        set_change->actor, now));
  }
  options_.sites = *sites;
  start_kept_.emplace_back(kept_set, *text);
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
    if (!named.empty()) actor = Actors(named);
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
      status_actor = Actors(status_named);
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
