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
//   OnOutcome, OnReceipt, ExpireDeadlines ─► Exchange transitions ─► records
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/logger.h"
#include "core/connected_nodes.h"
#include "core/core_env.h"
#include "core/core_stats.h"
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

  // An Inquiry from `inquirer` (the ZAP-authenticated agency).
  void OnInquiry(const std::string& inquirer, const v1::Envelope& envelope);
  // A ProvisionOutcome from `provider`'s node.
  void OnOutcome(const std::string& provider, const v1::Envelope& envelope);
  // A Receipt from `inquirer`'s node.
  void OnReceipt(const std::string& inquirer, const v1::Envelope& envelope);
  // Times out every exchange whose provider did not answer by its deadline, and closes
  // as "not confirmed" every exchange whose receipt did not come by its receipt deadline.
  void ExpireDeadlines();
  // Forgets request ids past the duplicate guard's window.
  void Forget() { exchanges_.Forget(deps_.env->NowMicros()); }

  std::optional<int64_t> NextDeadline() const { return exchanges_.NextDeadline(); }
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
  void Unreachable(const Exchange& x);
  void TimeOut(Exchange* x, int64_t now);
  void NotConfirmed(Exchange* x, int64_t now);
  void Close(Exchange* x);
  v1::Envelope Reply(const std::string& request_id) const;

  Deps deps_;
  BrokerOptions options_;
  ExchangeTable exchanges_;
};

}  // namespace ipn::core
