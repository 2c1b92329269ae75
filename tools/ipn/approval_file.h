// An operator's approval added to an approvals file (the two-person rule, policy/two_person.h):
// used by `ipn policy approve` (a bundle load, its agency status changes) and `ipn keys
// approve` (a key change request). The approving key is the operator's, in their token
// (--token, --token-key) or, for development, in a secret key file (--key).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "common/key_custody.h"
#include "common/status.h"
#include "tools/ipn/token_options.h"

namespace ipn::cli {

struct ApproverArgs {
  std::string operator_id;
  std::string key_file;
  TokenKeyArgs token;
};

// Adds --operator (required), --key, and the token options (excluding --key).
void AddApproverOptions(CLI::App& cmd, ApproverArgs& args);

// Signs `operator`'s approval of `action` on the bytes of `subject_path` and appends it to
// `approvals_path`. The file starts with a line naming the subject's SHA-256: approvals of
// other bytes are dropped (they could never count, and one left behind would refuse the
// new ones). AlreadyExists when this operator approved these bytes already. Returns how
// many approvals the file now holds.
Result<size_t> AddApproval(const ApproverArgs& approver, const std::string& action,
                           const std::string& subject_path, const std::string& approvals_path);

}  // namespace ipn::cli
