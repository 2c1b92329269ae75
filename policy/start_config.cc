// The two-person rule on the configuration a core starts with: the replica set file, and
// the check of a changed bundle or replica set against its approvals.
#include "policy/start_config.h"

#include <algorithm>
#include <filesystem>

#include "common/file_util.h"

namespace ipn::policy {
namespace {

constexpr std::string_view kMagic = "ipn-replica-set/1";

bool ValidSiteName(std::string_view s) {
  return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

std::string FormatReplicaSet(ReplicaSet set) {
  std::sort(set.sites.begin(), set.sites.end());
  set.sites.erase(std::unique(set.sites.begin(), set.sites.end()), set.sites.end());
  std::string out = std::string(kMagic) + "\nversion " + std::to_string(set.version) + "\n";
  for (const std::string& s : set.sites) out += "site " + s + "\n";
  return out;
}

Result<ReplicaSet> ParseReplicaSet(std::string_view text) {
  if (!text.starts_with(std::string(kMagic) + "\n")) {
    return Status::InvalidArgument("not a replica set (its first line is ipn-replica-set/1)");
  }
  ReplicaSet set;
  std::string_view rest = text.substr(kMagic.size() + 1);
  for (int line = 2; !rest.empty(); ++line) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      return Status::InvalidArgument("replica set line " + std::to_string(line) +
                                     ": not ended by a newline");
    }
    const std::string_view l = rest.substr(0, nl);
    rest = rest.substr(nl + 1);
    if (line == 2) {
      const std::string_view digits = l.starts_with("version ") ? l.substr(8) : "";
      if (digits.empty() || digits.size() > 18 || digits[0] == '0' ||
          !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Status::InvalidArgument("replica set line 2: expected 'version N' (N >= 1)");
      }
      set.version = std::stoull(std::string(digits));
      continue;
    }
    if (!l.starts_with("site ") || !ValidSiteName(l.substr(5))) {
      return Status::InvalidArgument("replica set line " + std::to_string(line) +
                                     ": expected 'site NAME' (1-32 of a-z 0-9 -)");
    }
    set.sites.emplace_back(l.substr(5));
  }
  if (set.version == 0) return Status::InvalidArgument("a replica set has a version line");
  if (set.sites.empty()) return Status::InvalidArgument("a replica set names at least one site");
  if (FormatReplicaSet(set) != text) {
    return Status::InvalidArgument("a replica set names each site once, sorted");
  }
  return set;
}

Result<StartChange> CheckStartConfig(const OperatorRoster* roster, std::string_view action,
                                     std::span<const uint8_t> bytes,
                                     const std::string& approvals_path,
                                     const std::string& kept_path, std::string_view kept_form) {
  StartChange change;
  std::error_code ec;
  if (std::filesystem::exists(kept_path, ec) || ec) {
    Result<std::string> kept = ReadFile(kept_path);
    if (!kept.ok()) return kept.status().WithContext("what was in force at the last start");
    change.previous = *kept;
  }
  change.changed = change.previous != kept_form;
  change.actor = "operator";
  if (roster == nullptr || roster->rules.count(std::string(action)) == 0) return change;
  Result<std::string> approvals = ReadFile(approvals_path);
  Result<std::vector<std::string>> approvers =
      CheckApprovals(*roster, action, bytes, approvals.ok() ? *approvals : std::string());
  if (!approvers.ok()) {
    return Status::PermissionDenied(
        approvals.ok() ? "its approvals do not suffice: " + approvers.status().message()
                       : "it has no approvals (" + approvals_path + ")");
  }
  change.actor = JoinApprovers(*approvers);
  return change;
}

Status KeepStartConfig(const std::string& kept_path, std::string_view kept_form) {
  return WriteFileAtomic(kept_path, std::string(kept_form));
}

}  // namespace ipn::policy
