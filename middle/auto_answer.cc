// The automatic answer from registered copies.
#include "middle/auto_answer.h"

namespace ipn::middle {

namespace {

void LogProvision(ExchangeLog* exchanges, std::string_view tenant,
                  const v1::ForwardedInquiry& inquiry, const std::string& person,
                  v1::Outcome outcome) {
  if (exchanges == nullptr) return;
  ExchangeEntry entry;
  entry.role = "provider";
  entry.person = person;
  entry.peer = inquiry.inquirer_code();
  entry.business = inquiry.business_code();
  entry.item = inquiry.item_code();
  entry.outcome = outcome == v1::OUTCOME_PROVIDED   ? "provided"
                  : outcome == v1::OUTCOME_NOT_HELD ? "not_held"
                                                    : "failed";
  entry.exchange_id = inquiry.exchange_id();
  // A log that cannot be written does not stop the answer: the core's records hold the
  // exchange either way.
  (void)exchanges->Append(std::string(tenant), std::move(entry));
}

}  // namespace

v1::AgencyAnswer AutoAnswer(const MiddleStore& store, std::string_view tenant,
                            const v1::ForwardedInquiry& inquiry, ExchangeLog* exchanges) {
  v1::AgencyAnswer answer;
  // A symbol the person map does not know means the platform missed its issuance (or the
  // tenant is gone): the agency may hold the person, so "not held" would be a false
  // statement in the records. Only a known person without the copy is not held.
  Result<std::string> person = store.PersonOf(tenant, inquiry.provider_symbol());
  if (!person.ok()) {
    answer.set_outcome(v1::OUTCOME_FAILED);
    LogProvision(exchanges, tenant, inquiry, "", answer.outcome());
    return answer;
  }
  // An item the tenant answers by hand reached the platform only because its own system
  // is not connected (the node prefers a system that names the item): the copies are not
  // the answer, so "not held" could be false.
  Result<bool> by_hand = store.IsAnsweredByHand(tenant, inquiry.item_code());
  if (!by_hand.ok() || *by_hand) {
    answer.set_outcome(v1::OUTCOME_FAILED);
    LogProvision(exchanges, tenant, inquiry, *person, answer.outcome());
    return answer;
  }
  Result<Copy> copy = store.Find(tenant, *person, inquiry.item_code());
  if (copy.ok()) {
    answer.set_outcome(v1::OUTCOME_PROVIDED);
    answer.set_payload(copy->content);
    answer.set_non_disclosure(copy->non_disclosure);
  } else if (copy.status().code() == Status::Code::kNotFound) {
    answer.set_outcome(v1::OUTCOME_NOT_HELD);
  } else {
    answer.set_outcome(v1::OUTCOME_FAILED);  // the store itself failed: say so, never guess
  }
  LogProvision(exchanges, tenant, inquiry, *person, answer.outcome());
  return answer;
}

}  // namespace ipn::middle
