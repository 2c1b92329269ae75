// PendingInquiries: the inquirer side of a node — the inquiries this node's agency asked
// and that have not ended yet, and the rendezvous of the core's decision with the
// provider's answer (DESIGN.md §5 steps 10 and 15). No socket: the node feeds it what
// arrives and carries out the Delivery it returns (tests/interface/pending_inquiries_test.cc).
//
// The answer travels node to node, the decision through the core, so either may come
// first. An answer names only the core's exchange id, which the node learns from the
// accepted decision; an answer that comes first is held (bounded, by exchange id) until
// that decision names it. Nothing is handed to the agency before the accepted decision:
// the decision leaves the core only once the exchange's records are durable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::interface {

struct PendingOptions {
  size_t max_inquiries = 200'000;     // inquiries in flight from this agency
  size_t max_early_answers = 10'000;  // answers held for a decision not yet here
  int64_t early_answer_ttl_us = 15'000'000;
};

// One inquiry's end, for the node to carry out: hand `result` to `client`, wipe its
// payload, and — when the provider's answer was delivered — send the core a receipt.
struct Delivery {
  std::string request_id;
  std::string client;       // the local system that asked
  std::string exchange_id;  // empty when the core never accepted it
  int64_t started_us = 0;
  bool send_receipt = false;
  v1::InquiryResult result;
};

class PendingInquiries {
 public:
  explicit PendingInquiries(PendingOptions options = {}) : options_(options) {}

  // A new inquiry from `client`. InvalidArgument without a request id; AlreadyExists if
  // the request id is in flight; ResourceExhausted past max_inquiries.
  Status Start(const std::string& request_id, const std::string& client,
               const std::string& provider, int64_t now_us, int64_t deadline_us);

  // The core's decision. A refusal ends the inquiry; an acceptance ends it only if the
  // provider's answer is already here.
  std::optional<Delivery> OnDecision(const std::string& request_id,
                                     const v1::InquiryDecision& decision);
  // The core's result (unreachable, timed out). Ends the inquiry unless the answer was
  // already delivered.
  std::optional<Delivery> OnResult(const std::string& request_id, v1::InquiryResult result);
  // The core could not take the message (an Error naming the request id).
  std::optional<Delivery> OnCoreError(const std::string& request_id, const std::string& reason);

  // An opened answer from `from`'s node for `exchange_id`. Ok(delivery) when it ends an
  // accepted inquiry; Ok(nullopt) when it is held for the decision; an error saying why
  // when it is dropped (not the provider, already answered, no room). `payload` is taken;
  // a dropped one is wiped. An answer is held only while `from` is the provider of more
  // inquiries awaiting their decisions than it has answers held: a peer cannot fill this
  // node with answers to exchanges nobody asked for, nor park late answers here.
  Result<std::optional<Delivery>> OnAnswer(const std::string& from, const std::string& exchange_id,
                                           v1::Outcome outcome, std::string payload,
                                           int64_t now_us);

  // Ends every inquiry past its deadline (TIMED_OUT) and drops held answers past their TTL.
  std::vector<Delivery> Expire(int64_t now_us);

  // Whether an inquiry to `provider` awaits its decision (an answer from it may be due).
  bool AwaitsDecisionFrom(const std::string& provider) const {
    return awaiting_decision_.count(provider) != 0;
  }

  size_t size() const { return inquiries_.size(); }
  size_t early_answers() const { return early_.size(); }

 private:
  struct Pending {
    std::string client;
    std::string provider;
    int64_t started_us = 0;
    int64_t deadline_us = 0;
    std::string exchange_id;  // from the accepted decision
    bool decided = false;     // the core's decision arrived
  };
  struct Answer {
    std::string from;
    v1::Outcome outcome = v1::OUTCOME_UNSPECIFIED;
    std::string payload;
    int64_t arrived_us = 0;
  };
  Delivery End(std::unordered_map<std::string, Pending>::iterator it, v1::InquiryResult result,
               bool send_receipt);
  void DropEarly(std::map<std::string, Answer>::iterator it);
  void MarkDecided(Pending& p);

  PendingOptions options_;
  std::unordered_map<std::string, Pending> inquiries_;        // by request id
  std::unordered_map<std::string, std::string> by_exchange_;  // exchange id -> request id
  std::map<std::string, Answer> early_;                       // by exchange id
  std::map<std::string, size_t> awaiting_decision_;           // provider -> undecided inquiries
  std::map<std::string, size_t> early_by_provider_;           // provider -> answers held
};

}  // namespace ipn::interface
