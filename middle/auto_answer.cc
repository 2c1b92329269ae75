// The automatic answer from registered copies.
#include "middle/auto_answer.h"

namespace ipn::middle {

v1::AgencyAnswer AutoAnswer(const MiddleStore& store, std::string_view tenant,
                            const v1::ForwardedInquiry& inquiry) {
  v1::AgencyAnswer answer;
  Result<std::string> person = store.PersonOf(tenant, inquiry.provider_symbol());
  Result<Copy> copy = person.ok() ? store.Find(tenant, *person, inquiry.item_code())
                                  : Result<Copy>(person.status());
  if (copy.ok()) {
    answer.set_outcome(v1::OUTCOME_PROVIDED);
    answer.set_payload(copy->content);
    answer.set_non_disclosure(copy->non_disclosure);
  } else if (copy.status().code() == Status::Code::kNotFound) {
    // No person behind the symbol here, or no copy of the item: the agency holds nothing.
    answer.set_outcome(v1::OUTCOME_NOT_HELD);
  } else {
    answer.set_outcome(v1::OUTCOME_FAILED);  // the store itself failed: say so, never guess
  }
  return answer;
}

}  // namespace ipn::middle
