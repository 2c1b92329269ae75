// CoreRouter::Impl::ReloadPolicy: a policy bundle loaded while the core runs (SIGHUP).
// With an operator roster (policy/two_person.h) it takes effect only with the approvals
// the roster requires: "policy_load" on the bundle's bytes (BUNDLE.approvals), and, when
// the bundle changes any agency's status, "agency_status" on the same bytes
// (BUNDLE.agency_status.approvals). Every load, refused or not, is an operator-action
// record naming the approvers, and so is every status change it makes.
#include <optional>

#include "common/file_util.h"
#include "core/core_router_impl.h"
#include "core/core_stats.h"
#include "core/operator_audit.h"

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

}  // namespace

void CoreRouter::Impl::ReloadPolicy() {
  std::shared_ptr<const policy::Policy> before = policy_->Current();
  std::string actor = "operator";
  std::string status_actor;  // who approved the agency status changes, when required
  Status s = Status::Ok();
  if (!roster_) {
    s = policy_->LoadFile(options_.policy_bundle_file);
  } else {
    // The bytes checked are the bytes loaded: read once.
    Result<std::string> bundle = ReadFile(options_.policy_bundle_file);
    if (!bundle.ok()) {
      s = bundle.status();
    } else {
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(bundle->data()),
                                           bundle->size());
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
  }
  std::shared_ptr<const policy::Policy> after = policy_->Current();
  if (!s.ok()) {
    log_->Error("policy_refused",
                {{"reason", s.ToString()}, {"version_in_force", after->version()}});
    stats_->policy_loads_refused.Add();
  } else {
    log_->Info("policy_loaded", {{"version", after->version()}});
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
