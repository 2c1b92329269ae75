// InquiryBroker: the inquiry lifecycle at the core — every rule from an inquiry's
// arrival to its exchange's close (DESIGN.md §5). It decides (permitted-link list,
// directory, rate limit, symbol, issuance), records, forwards, and closes exchanges on
// the provider's outcome, the inquirer's receipt and the deadline. It talks to the world
// only through CoreEnv, so each rule is specified by a unit test with a fake env and a
// manual clock (tests/core/inquiry_broker_test.cc).
//
//   OnInquiry ─► Charge ─► duplicate? ─► well-formed? ─┬─► RefuseUnfiled (aggregated)
//             ─► Decide (Check, Translate) ─┬─► Refuse (one record, under the person)
//                                           └─► Accept ─► Forward
//             └─► open already (sent again after a failover) ─► DecideAgain (no record)
//   OnOutcome, OnReceipt, ExpireDeadlines ─► Exchange transitions ─► records
//   Resume (a new leader) ─► the exchanges the log shows open, opened again
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "common/logger.h"
#include "core/connected_nodes.h"
#include "core/core_env.h"
#include "core/core_stats.h"
#include "core/exchange_recovery.h"
#include "core/exchange_table.h"
#include "core/refusal_ledger.h"
#include "policy/policy_store.h"
#include "symbol/symbol_service.h"

namespace ipn::core {

struct BrokerOptions {
  int64_t provider_deadline_us = 5'000'000;       // a silent provider times out after this
  int64_t remember_request_ids_us = 600'000'000;  // the duplicate guard's window
  // After the deadline, how long an exchange with an outcome waits for the inquirer's
  // receipt before it closes as "not confirmed" (the inquirer's node restarted or died).
  int64_t receipt_grace_us = 2'000'000;
  // Inquiries waiting for their provider's node to say Hello after a takeover
  // (AwaitNodesUntil); past this many, the next one is unreachable at once.
  size_t max_awaiting_provider = 10'000;
};

class InquiryBroker {
 public:
  struct Deps {
    CoreEnv* env = nullptr;
    policy::PolicyStore* policy = nullptr;
    const symbol::SymbolService* symbols = nullptr;
    const ConnectedNodes* nodes = nullptr;
    CoreStats* stats = nullptr;
    Logger* log = nullptr;
    RefusalLedger* refusals = nullptr;  // refusals filed under no person, aggregated
  };
  InquiryBroker(Deps deps, BrokerOptions options);
  ~InquiryBroker();
  InquiryBroker(const InquiryBroker&) = delete;
  InquiryBroker& operator=(const InquiryBroker&) = delete;

  // An Inquiry from `inquirer` (the ZAP-authenticated agency).
  void OnInquiry(const std::string& inquirer, const v1::Envelope& envelope);
  // A ProvisionOutcome from `provider`'s node.
  void OnOutcome(const std::string& provider, const v1::Envelope& envelope);
  // A Receipt from `inquirer`'s node.
  void OnReceipt(const std::string& inquirer, const v1::Envelope& envelope);
  // Times out every exchange whose provider did not answer by its deadline, and closes
  // as "not confirmed" every exchange whose receipt did not come by its receipt deadline.
  void ExpireDeadlines();
  // A new leader takes over the exchanges the former one left open (read from the log,
  // core/exchange_recovery.h): each is opened again under its id (the same keyed hash of
  // its inquirer and request id), with its original deadlines and the outcome on record.
  // The nodes send again what the failover may have lost — the inquiry (answered with its
  // decision again), the outcome, the receipt — and each exchange ends as it would have;
  // those past their deadlines end at the next ExpireDeadlines. Returns how many.
  size_t Resume(const std::vector<OpenExchange>& open);
  // A new leader: every node says Hello again within a moment (it reconnects by itself).
  // Until `until_us`, an accepted inquiry whose provider's node (or its inquirer's) has
  // not said Hello yet waits for it instead of ending unreachable at once.
  void AwaitNodesUntil(int64_t until_us) { await_nodes_until_us_ = until_us; }
  // `agency`'s node said Hello: the inquiries waiting for it (as their provider or their
  // inquirer) are forwarded now, if both their nodes are here.
  void OnNodeConnected(const std::string& agency);
  // Forgets request ids past the duplicate guard's window.
  void Forget() { exchanges_.Forget(deps_.env->NowMicros()); }

  std::optional<int64_t> NextDeadline() const;
  size_t open_count() const { return exchanges_.open_count(); }

 private:
  void Refuse(const ExchangeFacts& facts, v1::DenyReason reason, const std::string& explanation);
  // A refusal before any symbol is opened: answered at once, recorded in the ledger's
  // aggregate (no record and no log line of its own).
  void RefuseUnfiled(const ExchangeFacts& facts, v1::DenyReason reason,
                     const std::string& explanation, int64_t retry_at_us = 0);
  void Accept(ExchangeFacts facts, const v1::Inquiry& inquiry,
              const symbol::AgencySymbol& provider_symbol, const std::string& explanation, int row);
  // Sends the forward; fills `provider_node` (for the decision) from the same lookups.
  Status Forward(const Exchange& x, const v1::Inquiry& inquiry,
                 const symbol::AgencySymbol& provider_symbol, v1::PeerNode* provider_node);
  // Whose node answers exchange `x`, for its inquirer's decision said again.
  Status ProviderNode(const Exchange& x, v1::PeerNode* provider_node) const;
  // An inquiry sent again under the request id of the open exchange `x` (its node's
  // session with the core changed before the decision came): the same decision again,
  // recording nothing.
  void DecideAgain(const Exchange& x);
  // Forwarded: recorded, and the accepted decision queued for after the commit.
  void Forwarded(const Exchange& x, const std::string& explanation, int row,
                 v1::PeerNode provider_node);
  void Unreachable(const Exchange& x);
  void TimeOut(Exchange* x, int64_t now);
  void NotConfirmed(Exchange* x, int64_t now);
  void Close(Exchange* x);
  v1::Envelope Reply(const std::string& request_id) const;

  Deps deps_;
  BrokerOptions options_;
  // Accepted inquiries waiting for their provider's node after a takeover, oldest first.
  struct Awaiting {
    std::string exchange_id;
    v1::Inquiry inquiry;
    symbol::AgencySymbol provider_symbol;
    std::string explanation;
    int row = 0;
  };
  void DropAwaiting(Awaiting& a);
  std::deque<Awaiting> awaiting_;
  int64_t await_nodes_until_us_ = 0;
  ExchangeTable exchanges_;
};

}  // namespace ipn::core
