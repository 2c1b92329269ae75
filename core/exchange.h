// Exchange: one accepted inquiry's state and transitions at the core, from acceptance to
// close — the core's counterpart of Envoy's UpstreamRequest. An exchange closes when
// both its outcome (provided / not held / failed / timed out, from the provider's node
// or the deadline) and the inquirer's receipt are recorded, in either order, or when its
// receipt deadline passes with the outcome recorded and no receipt (the inquirer's node
// restarted or vanished: a recorded "not confirmed"). Each transition is allowed once; a
// second one is refused so nothing is recorded twice.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ipn/v1/wire.pb.h"
#include "records/record.h"

namespace ipn::core {

// What every record of an exchange says about it.
struct ExchangeFacts {
  std::string inquirer;
  std::string provider;
  std::string business;
  std::string item;
  std::string request_id;  // the inquirer's
  std::array<uint8_t, 32> record_symbol{};
};

class Exchange {
 public:
  // `receipt_deadline_us` (>= deadline_us): when an exchange with an outcome stops
  // waiting for the inquirer's receipt.
  Exchange(std::string id, ExchangeFacts facts, int64_t accepted_us, int64_t deadline_us,
           int64_t receipt_deadline_us)
      : id_(std::move(id)),
        facts_(std::move(facts)),
        accepted_us_(accepted_us),
        deadline_us_(deadline_us),
        receipt_deadline_us_(receipt_deadline_us) {}
  Exchange(std::string id, ExchangeFacts facts, int64_t accepted_us, int64_t deadline_us)
      : Exchange(std::move(id), std::move(facts), accepted_us, deadline_us, deadline_us) {}

  const std::string& id() const { return id_; }
  const ExchangeFacts& facts() const { return facts_; }
  int64_t accepted_us() const { return accepted_us_; }
  int64_t deadline_us() const { return deadline_us_; }
  int64_t receipt_deadline_us() const { return receipt_deadline_us_; }
  // When this exchange next needs the deadline rule: at its deadline while it waits for
  // an outcome, at its receipt deadline while it waits only for the receipt.
  int64_t due_us() const { return has_outcome_ ? receipt_deadline_us_ : deadline_us_; }
  bool has_outcome() const { return has_outcome_; }
  bool has_receipt() const { return has_receipt_; }
  bool non_disclosure() const { return non_disclosure_; }
  bool closed() const { return has_outcome_ && has_receipt_; }

  // The provider's outcome, or the deadline's (OUTCOME_TIMED_OUT). False if an outcome
  // was already recorded. Anything but provided / not held / timed out counts as failed.
  bool SetOutcome(v1::Outcome outcome, bool non_disclosure);
  // The inquirer's receipt. False if one was already recorded.
  bool SetReceipt();

  // The outcome recorded so far (OUTCOME_UNSPECIFIED before one).
  v1::Outcome outcome() const { return outcome_; }

  // A record of `event` about this exchange, with `outcome` as its outcome text.
  records::Record MakeRecord(records::Event event, std::string_view outcome, int64_t now_us) const;

 private:
  std::string id_;
  ExchangeFacts facts_;
  int64_t accepted_us_;
  int64_t deadline_us_;
  int64_t receipt_deadline_us_;
  bool has_outcome_ = false;
  bool has_receipt_ = false;
  bool non_disclosure_ = false;
  v1::Outcome outcome_ = v1::OUTCOME_UNSPECIFIED;
};

// The facts a record of an exchange carries (MakeExchangeRecord's inverse): a resumed
// exchange is rebuilt from its accepted record.
ExchangeFacts ExchangeFactsOf(const records::Record& record);

// The record of `event` for facts that never became an exchange (a refusal).
records::Record MakeExchangeRecord(const ExchangeFacts& facts, records::Event event,
                                   std::string_view outcome, bool non_disclosure, int64_t now_us);

}  // namespace ipn::core
