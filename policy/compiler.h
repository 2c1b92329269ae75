// The policy compiler: the human-editable source (a directory of CSV files, documented in
// docs/policy.md) -> a validated, unsigned bundle file, ready for SignBundle.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "policy/policy.h"

namespace ipn::policy {

// The source files by name: agencies.csv, businesses.csv, items.csv, links.csv.
struct PolicySource {
  std::map<std::string, std::string> files;
};

// Changes to one agency's directory row, applied after the source is read (demos, tests,
// and operators scripting a suspension without editing the CSV).
struct AgencyOverride {
  std::optional<std::array<uint8_t, 32>> curve_public_key;
  std::optional<std::string> endpoint;
  std::optional<AgencyStatus> status;
  std::optional<bool> pia_approved;
  std::optional<double> rate_per_second, burst;
};

// Reads the four source files from `dir` (other files there are ignored).
Result<PolicySource> ReadPolicySource(const std::string& dir);

// Compiles and validates the source; `overrides` names agencies by code (an unknown code is
// an error). Returns the unsigned bundle file. Errors name the file and line.
Result<std::vector<uint8_t>> CompilePolicy(
    const PolicySource& source, uint64_t version,
    const std::map<std::string, AgencyOverride>& overrides = {});

}  // namespace ipn::policy
