// Exchange: per-exchange state and transitions.
#include "core/exchange.h"

namespace ipn::core {

bool Exchange::SetOutcome(v1::Outcome outcome, bool non_disclosure) {
  if (has_outcome_) return false;
  switch (outcome) {
    case v1::OUTCOME_PROVIDED:
    case v1::OUTCOME_NOT_HELD:
    case v1::OUTCOME_TIMED_OUT: outcome_ = outcome; break;
    default: outcome_ = v1::OUTCOME_FAILED;
  }
  has_outcome_ = true;
  non_disclosure_ = non_disclosure;
  return true;
}

bool Exchange::SetReceipt() {
  if (has_receipt_) return false;
  has_receipt_ = true;
  return true;
}

records::Record Exchange::MakeRecord(records::Event event, std::string_view outcome,
                                     int64_t now_us) const {
  return MakeExchangeRecord(facts_, event, outcome, non_disclosure_, now_us);
}

ExchangeFacts ExchangeFactsOf(const records::Record& record) {
  ExchangeFacts facts;
  facts.inquirer = record.inquirer;
  facts.provider = record.provider;
  facts.business = record.business;
  facts.item = record.item;
  facts.request_id = record.request_id;
  facts.record_symbol = record.record_symbol;
  return facts;
}

records::Record MakeExchangeRecord(const ExchangeFacts& facts, records::Event event,
                                   std::string_view outcome, bool non_disclosure, int64_t now_us) {
  records::Record r;
  r.time_unix_us = now_us;
  r.event = event;
  r.record_symbol = facts.record_symbol;
  r.inquirer = facts.inquirer;
  r.provider = facts.provider;
  r.business = facts.business;
  r.item = facts.item;
  r.request_id = facts.request_id;
  r.outcome = std::string(outcome);
  r.non_disclosure = non_disclosure;
  return r;
}

}  // namespace ipn::core
