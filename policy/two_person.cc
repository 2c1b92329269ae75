// The operator roster and the approvals check (two_person.h).
#include "policy/two_person.h"

#include <sodium.h>

#include <charconv>
#include <set>
#include <sstream>

#include "common/encoding.h"
#include "common/file_util.h"

namespace ipn::policy {
namespace {

constexpr std::string_view kDomain = "ipn-approval/1\n";
const std::set<std::string> kRoles = {"key_custodian", "policy_officer", "agency_registrar",
                                      "auditor"};

// The line's words, the comment cut off.
std::vector<std::string> Words(std::string line) {
  if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool IsId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string Message(std::string_view action, std::span<const uint8_t> subject) {
  std::array<uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), subject.data(), subject.size());
  std::string m(kDomain);
  m.append(action);
  m += "\n" + HexEncode(digest) + "\n";
  return m;
}

}  // namespace

Result<OperatorRoster> ParseOperatorRoster(std::string_view text) {
  OperatorRoster roster;
  std::istringstream in{std::string(text)};
  size_t number = 0;
  std::vector<std::pair<size_t, std::string>> rule_lines;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string where = "operator roster line " + std::to_string(number) + ": ";
    std::vector<std::string> w = Words(line);
    if (w.empty()) continue;
    if (w[0] == "operator") {
      if (w.size() != 4) return Status::InvalidArgument(where + "operator <id> <role> <key>");
      if (!IsId(w[1])) return Status::InvalidArgument(where + "an id is a-z 0-9 - _ . (≤ 64)");
      if (!kRoles.count(w[2])) return Status::InvalidArgument(where + "unknown role " + w[2]);
      Result<std::vector<uint8_t>> key = HexDecode(w[3]);
      if (!key.ok() || key->size() != 32) {
        return Status::InvalidArgument(where + "a key is 64 hex digits");
      }
      RosterOperator op;
      op.role = w[2];
      std::copy(key->begin(), key->end(), op.public_key.begin());
      if (!roster.operators.emplace(w[1], op).second) {
        return Status::InvalidArgument(where + "operator " + w[1] + " given twice");
      }
    } else if (w[0] == "require") {
      if (w.size() != 4) return Status::InvalidArgument(where + "require <action> <m> <role>");
      if (!IsId(w[1])) return Status::InvalidArgument(where + "an action is a-z 0-9 - _ .");
      if (!kRoles.count(w[3])) return Status::InvalidArgument(where + "unknown role " + w[3]);
      uint32_t m = 0;
      auto [end, ec] = std::from_chars(w[2].data(), w[2].data() + w[2].size(), m);
      if (ec != std::errc() || end != w[2].data() + w[2].size() || m < 1 || m > 16) {
        return Status::InvalidArgument(where + "m is a whole number from 1 to 16");
      }
      if (!roster.rules.emplace(w[1], ApprovalRule{m, w[3]}).second) {
        return Status::InvalidArgument(where + "a rule for " + w[1] + " given twice");
      }
      rule_lines.emplace_back(number, w[1]);
    } else {
      return Status::InvalidArgument(where + "unknown directive " + w[0]);
    }
  }
  // A rule no set of operators can meet would lock the action out for good.
  for (const auto& [line, action] : rule_lines) {
    const ApprovalRule& rule = roster.rules[action];
    uint32_t holders = 0;
    for (const auto& [id, op] : roster.operators) holders += op.role == rule.role ? 1 : 0;
    if (holders < rule.approvals) {
      return Status::InvalidArgument("operator roster line " + std::to_string(line) + ": " +
                                     action + " needs " + std::to_string(rule.approvals) + " " +
                                     rule.role + " operators; the roster has " +
                                     std::to_string(holders));
    }
  }
  return roster;
}

Result<OperatorRoster> LoadOperatorRoster(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Result<OperatorRoster> roster = ParseOperatorRoster(*text);
  if (!roster.ok()) return roster.status().WithContext(path);
  return roster;
}

Result<std::string> ApprovalLine(std::string_view action, std::span<const uint8_t> subject,
                                 const std::string& operator_id,
                                 std::span<const uint8_t> secret_key) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("an operator's secret key is 64 bytes");
  }
  if (!IsId(operator_id)) return Status::InvalidArgument("an operator id is a-z 0-9 - _ .");
  const std::string m = Message(action, subject);
  std::array<uint8_t, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr, reinterpret_cast<const unsigned char*>(m.data()),
                       m.size(), secret_key.data());
  return "approve " + operator_id + " " + HexEncode(signature) + "\n";
}

Result<std::string> ApprovalLine(std::string_view action, std::span<const uint8_t> subject,
                                 const std::string& operator_id, const Ed25519Signer& signer) {
  if (!IsId(operator_id)) return Status::InvalidArgument("an operator id is a-z 0-9 - _ .");
  const std::string m = Message(action, subject);
  Result<Ed25519Signature> signature =
      signer.Sign(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(m.data()), m.size()));
  if (!signature.ok()) return signature.status().WithContext("cannot sign the approval");
  return "approve " + operator_id + " " + HexEncode(*signature) + "\n";
}

std::vector<std::string> NamedApprovers(std::string_view approvals_text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(approvals_text)};
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> w = Words(line);
    if (w.size() >= 2 && w[0] == "approve") out.push_back(w[1]);
  }
  return out;
}

Result<std::vector<std::string>> CheckApprovals(const OperatorRoster& roster,
                                                std::string_view action,
                                                std::span<const uint8_t> subject,
                                                std::string_view approvals_text) {
  auto rule_it = roster.rules.find(std::string(action));
  if (rule_it == roster.rules.end()) return std::vector<std::string>{};
  const ApprovalRule& rule = rule_it->second;
  const std::string m = Message(action, subject);
  std::vector<std::string> approvers;
  std::istringstream in{std::string(approvals_text)};
  size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    std::vector<std::string> w = Words(line);
    if (w.empty()) continue;
    const std::string where = "approval line " + std::to_string(number) + ": ";
    if (w.size() != 3 || w[0] != "approve") {
      return Status::PermissionDenied(where + "expected approve <operator> <signature>");
    }
    auto op = roster.operators.find(w[1]);
    if (op == roster.operators.end()) {
      return Status::PermissionDenied(where + w[1] + " is not on the operator roster");
    }
    if (op->second.role != rule.role) {
      return Status::PermissionDenied(where + w[1] + " holds the role " + op->second.role + "; " +
                                      std::string(action) + " needs " + rule.role);
    }
    for (const std::string& earlier : approvers) {
      if (earlier == w[1]) {
        return Status::PermissionDenied(where + w[1] +
                                        " approved twice: no operator approves their own request");
      }
    }
    Result<std::vector<uint8_t>> sig = HexDecode(w[2]);
    if (!sig.ok() || sig->size() != crypto_sign_BYTES ||
        crypto_sign_verify_detached(sig->data(), reinterpret_cast<const unsigned char*>(m.data()),
                                    m.size(), op->second.public_key.data()) != 0) {
      return Status::PermissionDenied(where + w[1] + "'s signature is not over this " +
                                      std::string(action) + " (another file, or altered)");
    }
    approvers.push_back(w[1]);
  }
  if (approvers.size() < rule.approvals) {
    std::string who;
    for (const std::string& a : approvers) who += (who.empty() ? "" : ", ") + a;
    return Status::PermissionDenied(
        std::string(action) + " needs " + std::to_string(rule.approvals) +
        " approvals by distinct " + rule.role + " operators; it has " +
        std::to_string(approvers.size()) + (who.empty() ? "" : " (" + who + ")"));
  }
  return approvers;
}

std::string JoinApprovers(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : "+") + id;
  return out;
}

}  // namespace ipn::policy
