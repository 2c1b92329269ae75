// Two-person rule (権限分離): which operators may approve which sensitive actions, and the
// check that an action carries enough approvals by distinct operators of the needed role.
//
// The operator roster, installed beside the policy administrator's public key (the same
// trust: whoever installs the core's configuration):
//
//   # comments and blank lines are ignored
//   operator alice policy_officer 3b6a27bc…(64 hex: the operator's Ed25519 public key)
//   operator bob   policy_officer 8f1e…
//   require policy_load 2 policy_officer
//
// Roles: key_custodian, policy_officer, agency_registrar, auditor. An action without a
// `require` line needs no approvals. An approvals file, one line per approval:
//
//   approve alice <128 hex: the signature>
//
// Each signature is Ed25519 by the operator's key over "ipn-approval/1\n" <action> "\n"
// <hex SHA-256 of the subject's bytes (e.g. the signed bundle file)> "\n": it approves that
// action on exactly those bytes. The first approval is the request; every further one is
// another operator's approval, so the same operator twice is refused (no operator approves
// their own request).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/key_custody.h"
#include "common/status.h"

namespace ipn::policy {

struct RosterOperator {
  std::string role;
  std::array<uint8_t, 32> public_key{};
};

struct ApprovalRule {
  uint32_t approvals = 2;
  std::string role;
};

struct OperatorRoster {
  std::map<std::string, RosterOperator> operators;  // by operator id
  std::map<std::string, ApprovalRule> rules;        // by action
};

// InvalidArgument naming the line: an unknown directive or role, a bad key, an operator
// or a rule given twice, a rule needing 0 or more approvals than operators of its role.
Result<OperatorRoster> ParseOperatorRoster(std::string_view text);
Result<OperatorRoster> LoadOperatorRoster(const std::string& path);

// One approvals-file line for `action` on `subject`, signed with an operator's 64-byte
// secret key (libsodium's seed || public key).
Result<std::string> ApprovalLine(std::string_view action, std::span<const uint8_t> subject,
                                 const std::string& operator_id,
                                 std::span<const uint8_t> secret_key);
// The same, signed by a key held elsewhere: an operator's PKCS#11 token (token/), so the
// approval takes something held (the token) and something known (its PIN).
Result<std::string> ApprovalLine(std::string_view action, std::span<const uint8_t> subject,
                                 const std::string& operator_id, const Ed25519Signer& signer);

// The operators whose approvals let `action` on `subject` take effect, in file order;
// PermissionDenied saying what is missing or wrong otherwise (too few, an operator not on
// the roster, the wrong role, the same operator twice, a signature over something else).
Result<std::vector<std::string>> CheckApprovals(const OperatorRoster& roster,
                                                std::string_view action,
                                                std::span<const uint8_t> subject,
                                                std::string_view approvals_text);

// The ids of the operators named in an approvals file, valid or not (for the record of
// a refusal).
std::vector<std::string> NamedApprovers(std::string_view approvals_text);

// "alice+bob": approvers as a record's actor names them, in the order given.
std::string JoinApprovers(const std::vector<std::string>& ids);

}  // namespace ipn::policy
