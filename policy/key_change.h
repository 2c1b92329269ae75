// Key changes under the two-person rule (権限分離, issue #15): rotating or retiring a key of
// the core's key ring (`ipn keys rotate|retire`, offline) takes the approvals the operator
// roster requires for action "key_change" (e.g. `require key_change 2 key_custodian`), on
// a written request, as a policy load takes the policy officers'.
//
//   ipn keys request --dir D --agency X --rotate > change.txt
//   ipn keys approve --request change.txt --operator alice --token alice-token --token-key approval
//   ipn keys approve --request change.txt --operator bob …
//   ipn keys rotate --dir D --agency X --request change.txt
//
// The request binds the change to the ring's state before it, so an approval is good for
// exactly one change:
//
//   ipn-key-change/1
//   change rotate-agency MUN-131016      (or: rotate-records | retire MUN-131016 2)
//   ring <hex SHA-256 of the ring's key summary before the change>
//
// Each change made is journalled beside the ring (DIR/key_changes.log, one JSON line:
// the summary's hash after the change, the request and its approvals), so that the core,
// which records key changes at its next start, can check the approvals against its own
// roster and name who approved them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/two_person.h"

namespace ipn::policy {

inline constexpr char kKeyChangeAction[] = "key_change";
inline constexpr char kKeyChangeJournal[] = "key_changes.log";

// "rotate-agency MUN-131016", "rotate-records" or "retire MUN-131016 2".
struct KeyChange {
  std::string what;
  std::string ring_before;  // hex SHA-256 of the key summary before the change
};

// SHA-256 of a key ring summary (symbol::KeyRingSummary), hex.
std::string RingStateHash(std::string_view summary);

std::string FormatKeyChangeRequest(const KeyChange& change);
// InvalidArgument naming what is wrong.
Result<KeyChange> ParseKeyChangeRequest(std::string_view text);

// Checks, before acting, that `request_text` asks for `what` on the ring whose summary is
// now `summary_before` and carries the roster's approvals for it; the approvers, or
// PermissionDenied / InvalidArgument saying what is missing.
Result<std::vector<std::string>> CheckKeyChange(const OperatorRoster& roster,
                                                std::string_view request_text,
                                                std::string_view approvals_text,
                                                std::string_view what,
                                                std::string_view summary_before);

// Appends a made change to DIR/key_changes.log (synced).
Status JournalKeyChange(const std::string& dir, std::string_view summary_after,
                        std::string_view request_text, std::string_view approvals_text);

// Who approved the change that left the ring with `summary_after`, as the journal in
// `dir` says: with a roster, only when its approvals still verify against it ("a+b");
// without one, the names the journal gives. NotFound when the journal has no such change.
Result<std::string> KeyChangeApprovers(const std::string& dir, std::string_view summary_after,
                                       const OperatorRoster* roster);

}  // namespace ipn::policy
