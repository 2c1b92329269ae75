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
// the ring's summaries before and after, the request and its approvals; the core's own
// creation of an agency's first keys too), so that the core, which records key changes at
// its next start, can rebuild the chain of changes since its last start, check each
// against its own roster and name who approved it — or record it as unapproved.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/two_person.h"

namespace ipn::policy {

inline constexpr char kKeyChangeAction[] = "key_change";
inline constexpr char kKeyChangeJournal[] = "key_changes.log";

// "rotate-agency MUN-131016", "rotate-records" or "retire MUN-131016 2" (and, journalled
// without a request, "create-agency MUN-131016").
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

// Appends a made change to DIR/key_changes.log (synced): the ring's summaries before and
// after it, the request and its approvals.
Status JournalKeyChange(const std::string& dir, std::string_view summary_before,
                        std::string_view summary_after, std::string_view request_text,
                        std::string_view approvals_text);
// Appends a change made without a request: an agency's first keys ("create-agency X",
// by the core at the agency's first use, or by `ipn keys add`), which need no approvals,
// or — with no key_change rule in force — any change `what`, made by `by`. A chain
// checked against a roster with the rule accepts only the creations among them.
Status JournalKeyChangeBy(const std::string& dir, std::string_view summary_before,
                          std::string_view summary_after, std::string_view what,
                          std::string_view by);
inline Status JournalKeyCreation(const std::string& dir, std::string_view summary_before,
                                 std::string_view summary_after, std::string_view agency,
                                 std::string_view by) {
  return JournalKeyChangeBy(dir, summary_before, summary_after,
                            "create-agency " + std::string(agency), by);
}

// Whether going from ring summary `before` to `after` is exactly the change `what` names:
// every key that differs belongs to it ("rotate-agency X": X's keys, X with a new active
// version; "retire X N": X's version N only; "rotate-records": the records key only;
// "create-agency X": X's version 1 only, X absent before), and something differs.
bool ChangeMatches(std::string_view what, std::string_view before, std::string_view after);

// One change on the way from one start's ring to the next.
struct KeyChangeStep {
  std::string what;
  std::string actor;   // "kim+lee" (approvers), or who made a creation ("core")
  std::string before;  // the summaries around it
  std::string after;
  std::vector<std::string> added;  // the summary entries it made or changed
};

// The journal's changes that lead, one after another, from the ring summary `previous` to
// `current`, oldest first (none when they are equal). Each must be journalled, be exactly
// the change its request names (ChangeMatches), and — rotations and retirements — carry
// approvals that verify against `roster` (without one, the approvers the journal names).
// NotFound when the chain breaks (a change made without the journal, e.g. by hand);
// PermissionDenied when a change's approvals or request do not hold.
Result<std::vector<KeyChangeStep>> KeyChangeChain(const std::string& dir, std::string_view previous,
                                                  std::string_view current,
                                                  const OperatorRoster* roster);

}  // namespace ipn::policy
