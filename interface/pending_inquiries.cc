// PendingInquiries: the inquirer side's state and the decision/answer rendezvous.
#include "interface/pending_inquiries.h"

#include <sodium.h>

namespace ipn::interface {
namespace {

void Wipe(std::string* s) {
  if (!s->empty()) sodium_memzero(s->data(), s->size());
  s->clear();
}

}  // namespace

Status PendingInquiries::Start(const std::string& request_id, const std::string& client,
                               const std::string& provider, int64_t now_us, int64_t deadline_us) {
  if (request_id.empty()) return Status::InvalidArgument("an inquiry needs a request id");
  if (inquiries_.count(request_id) != 0) {
    return Status::AlreadyExists("request id " + request_id + " is already in flight");
  }
  if (inquiries_.size() >= options_.max_inquiries) {
    return Status::ResourceExhausted("too many inquiries in flight (" +
                                     std::to_string(options_.max_inquiries) + ")");
  }
  inquiries_.emplace(request_id, Pending{client, provider, now_us, deadline_us, "", false});
  ++awaiting_decision_[provider];
  return Status::Ok();
}

void PendingInquiries::MarkDecided(Pending& p) {
  if (p.decided) return;
  p.decided = true;
  auto it = awaiting_decision_.find(p.provider);
  if (it != awaiting_decision_.end() && --it->second == 0) awaiting_decision_.erase(it);
}

Delivery PendingInquiries::End(std::unordered_map<std::string, Pending>::iterator it,
                               v1::InquiryResult result, bool send_receipt) {
  MarkDecided(it->second);
  Delivery d;
  d.request_id = it->first;
  d.client = std::move(it->second.client);
  d.exchange_id = it->second.exchange_id;
  d.started_us = it->second.started_us;
  d.send_receipt = send_receipt;
  if (result.provider_code().empty()) result.set_provider_code(it->second.provider);
  if (!d.exchange_id.empty()) result.set_exchange_id(d.exchange_id);
  d.result = std::move(result);
  if (!it->second.exchange_id.empty()) by_exchange_.erase(it->second.exchange_id);
  inquiries_.erase(it);
  return d;
}

std::optional<Delivery> PendingInquiries::OnDecision(const std::string& request_id,
                                                     const v1::InquiryDecision& decision) {
  auto it = inquiries_.find(request_id);
  if (it == inquiries_.end() || it->second.decided) {
    // The inquiry ended here first (an old leader's "records unavailable", say) and the
    // exchange went ahead elsewhere: an answer held for it will never be claimed, and
    // would count against its provider's room for the answers of inquiries still waiting.
    auto held = decision.accepted() ? early_.find(decision.exchange_id()) : early_.end();
    if (held != early_.end()) DropEarly(held);
    return std::nullopt;
  }
  if (!decision.accepted()) {
    v1::InquiryResult r;
    r.set_outcome(decision.deny_reason() == v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER
                      ? v1::OUTCOME_NOT_HELD
                      : v1::OUTCOME_REFUSED);
    r.set_deny_reason(decision.deny_reason());
    r.set_explanation(decision.explanation());
    return End(it, std::move(r), false);
  }
  if (decision.exchange_id().empty()) {
    v1::InquiryResult r;
    r.set_outcome(v1::OUTCOME_FAILED);
    r.set_explanation("the core accepted the inquiry without naming the exchange");
    return End(it, std::move(r), false);
  }
  if (by_exchange_.count(decision.exchange_id()) != 0) {
    v1::InquiryResult r;  // a core never names one exchange twice; refuse to guess
    r.set_outcome(v1::OUTCOME_FAILED);
    r.set_explanation("the core named an exchange already in use here");
    return End(it, std::move(r), false);
  }
  MarkDecided(it->second);
  it->second.exchange_id = decision.exchange_id();
  by_exchange_[decision.exchange_id()] = request_id;
  // The rendezvous: an answer that came first was held for this decision.
  auto early = early_.find(decision.exchange_id());
  if (early == early_.end()) return std::nullopt;
  if (early->second.from != it->second.provider) {
    DropEarly(early);  // sealed by a node that is not this exchange's provider
    return std::nullopt;
  }
  v1::InquiryResult r;
  r.set_outcome(early->second.outcome);
  r.set_payload(std::move(early->second.payload));
  DropEarly(early);
  return End(it, std::move(r), true);
}

std::optional<Delivery> PendingInquiries::OnResult(const std::string& request_id,
                                                   v1::InquiryResult result) {
  auto it = inquiries_.find(request_id);
  if (it == inquiries_.end()) return std::nullopt;  // delivered already, or never asked
  return End(it, std::move(result), false);
}

std::optional<Delivery> PendingInquiries::OnCoreError(const std::string& request_id,
                                                      const std::string& reason) {
  auto it = inquiries_.find(request_id);
  if (it == inquiries_.end()) return std::nullopt;
  v1::InquiryResult r;
  r.set_outcome(v1::OUTCOME_FAILED);
  r.set_explanation("the core refused the message: " + reason);
  return End(it, std::move(r), false);
}

Result<std::optional<Delivery>> PendingInquiries::OnAnswer(const std::string& from,
                                                           const std::string& exchange_id,
                                                           v1::Outcome outcome, std::string payload,
                                                           int64_t now_us) {
  if (outcome != v1::OUTCOME_PROVIDED && outcome != v1::OUTCOME_NOT_HELD) {
    outcome = v1::OUTCOME_FAILED;
  }
  auto by = by_exchange_.find(exchange_id);
  auto it = by != by_exchange_.end() ? inquiries_.find(by->second) : inquiries_.end();
  if (it != inquiries_.end()) {
    if (it->second.provider != from) {
      Wipe(&payload);
      return Status::PermissionDenied("the answer comes from " + from + ", not the provider " +
                                      it->second.provider);
    }
    v1::InquiryResult r;
    r.set_outcome(outcome);
    r.set_payload(std::move(payload));
    return std::optional<Delivery>(End(it, std::move(r), true));
  }
  if (exchange_id.empty() || early_.count(exchange_id) != 0) {
    Wipe(&payload);
    return Status::AlreadyExists("an answer for exchange " + exchange_id + " is already here");
  }
  auto awaiting = awaiting_decision_.find(from);
  auto held = early_by_provider_.find(from);
  const size_t held_count = held == early_by_provider_.end() ? 0 : held->second;
  if (awaiting == awaiting_decision_.end() || held_count >= awaiting->second) {
    Wipe(&payload);
    return Status::NotFound("no inquiry to " + from + " awaits its decision: an answer nobody " +
                            "here is waiting for, or one that came too late");
  }
  if (early_.size() >= options_.max_early_answers) {
    Wipe(&payload);
    return Status::ResourceExhausted("too many answers waiting for their decisions");
  }
  early_.emplace(exchange_id, Answer{from, outcome, std::move(payload), now_us});
  ++early_by_provider_[from];
  return std::optional<Delivery>();
}

void PendingInquiries::DropEarly(std::map<std::string, Answer>::iterator it) {
  auto count = early_by_provider_.find(it->second.from);
  if (count != early_by_provider_.end() && --count->second == 0) early_by_provider_.erase(count);
  Wipe(&it->second.payload);
  early_.erase(it);
}

std::vector<Delivery> PendingInquiries::Expire(int64_t now_us) {
  std::vector<Delivery> out;
  for (auto it = inquiries_.begin(); it != inquiries_.end();) {
    auto next = std::next(it);
    if (it->second.deadline_us <= now_us) {
      v1::InquiryResult r;
      r.set_outcome(v1::OUTCOME_TIMED_OUT);
      r.set_explanation("no end to this inquiry from the network in time");
      out.push_back(End(it, std::move(r), false));
    }
    it = next;
  }
  for (auto it = early_.begin(); it != early_.end();) {
    auto next = std::next(it);
    if (it->second.arrived_us + options_.early_answer_ttl_us <= now_us) DropEarly(it);
    it = next;
  }
  return out;
}

}  // namespace ipn::interface
