// InterfaceNode, the inquirer side: the agency's inquiries go to the core; the core's
// decision and the provider node's sealed answer meet in PendingInquiries; the result
// goes to the asking system and a receipt to the core.
#include <algorithm>

#include "common/limits.h"
#include "interface/answer_seal.h"
#include "interface/node_impl.h"

namespace ipn::interface {

void InterfaceNode::Impl::HandleLocalInquiry(Incoming& in) {
  const std::string& request_id = in.envelope.request_id();
  const int64_t now = Now();
  const size_t bytes = in.envelope.ByteSizeLong();
  // The agency's rate, held here first (RateMirror; the core's retry time after a refusal
  // there): a flooding system is refused at its own node and costs the core nothing.
  int64_t retry_at = hold_until_us_;
  const bool over_rate = now < hold_until_us_ || !rate_.TryTake(now, &retry_at);
  if (over_rate) stats_->held_at_node.Add();
  Status started =
      over_rate ? Status::ResourceExhausted(options_.agency_code +
                                            " is over its rate of inquiries; try again in " +
                                            std::to_string((retry_at - now) / 1000 + 1) + " ms")
      : bytes > limits::kMaxInquiryBytes
          ? Status::InvalidArgument("the inquiry is " + std::to_string(bytes) +
                                    " bytes; the limit is " +
                                    std::to_string(limits::kMaxInquiryBytes))
          : pending_.Start(request_id, in.routing_id, in.envelope.inquiry().provider_code(), now,
                           now + options_.local_timeout_us);
  if (!started.ok()) {
    v1::Envelope r = Stamped(request_id);
    v1::InquiryResult* res = r.mutable_inquiry_result();
    res->set_outcome(v1::OUTCOME_REFUSED);
    res->set_deny_reason(
        started.code() == Status::Code::kAlreadyExists       ? v1::DENY_REASON_DUPLICATE_REQUEST
        : started.code() == Status::Code::kResourceExhausted ? v1::DENY_REASON_RATE_LIMITED
                                                             : v1::DENY_REASON_MALFORMED);
    res->set_explanation(started.message());
    (void)SendLocal(in.routing_id, r);
    return;
  }
  SendToCore(in.envelope);
  if (KeepsForResend()) outbox_.KeepInquiry(in.envelope, now + options_.local_timeout_us);
}

void InterfaceNode::Impl::HandleDecision(const v1::Envelope& e) {
  const v1::InquiryDecision& d = e.inquiry_decision();
  // The provider's node is vouched for before the rendezvous, so that its answer (which
  // may arrive any moment) passes this node's ZAP check.
  if (d.accepted() && d.has_provider_node()) {
    Status vouched = peers_->Vouch(d.provider_node());
    if (!vouched.ok()) {
      log_->Warn("bad_provider_node",
                 {{"request_id", e.request_id()}, {"reason", vouched.message()}});
    } else {
      OpenHeldAnswers(d.provider_node().agency_code());
    }
  }
  // Over the agency's rate: until the core's retry time every inquiry would be refused
  // there, so the node refuses them here and the core (and every other agency's traffic
  // through it) never sees them.
  if (!d.accepted() && d.deny_reason() == v1::DENY_REASON_RATE_LIMITED) {
    // Relative to now on this node's clock (the core's clock may differ), and at most
    // kMaxRateHoldUs: a wrong value cannot silence the agency for long.
    // A core that predates field 7 sends only its own clock's time (field 6).
    const int64_t after = d.retry_after_us() > 0        ? d.retry_after_us()
                          : d.retry_after_unix_us() > 0 ? d.retry_after_unix_us() - Now()
                                                        : 0;
    const int64_t wait = std::clamp<int64_t>(after, 0, limits::kMaxRateHoldUs);
    hold_until_us_ = std::max(hold_until_us_, Now() + wait);
  }
  outbox_.Decided(e.request_id());
  if (auto delivery = pending_.OnDecision(e.request_id(), d)) Deliver(std::move(*delivery));
}

void InterfaceNode::Impl::HandleAnswer(Incoming& in) {
  if (!in.envelope.has_answer()) {
    stats_->dropped_answers.Add();
    log_->Warn("unexpected_answer", {{"from", in.user_id}, {"reason", "not an answer"}});
    return;
  }
  const v1::Answer& a = in.envelope.answer();
  // A peer this node forgot (a new leader's first, partial Welcome) whose answer came
  // before the decision that vouches for it again: held until then (UnopenedAnswers).
  if (!peers_->Find(in.user_id) && pending_.AwaitsDecisionFrom(in.user_id)) {
    if (unopened_.Hold(in.user_id, a, Now())) {
      stats_->held_answers.Add();
      return;
    }
  }
  Result<BoundAnswer> opened = OpenAnswer(*peers_, in.user_id, options_.agency_code, a);
  if (!opened.ok()) {
    stats_->dropped_answers.Add();
    log_->Warn("answer_rejected", {{"exchange_id", a.exchange_id()},
                                   {"from", in.user_id},
                                   {"reason", opened.status().message()}});
    return;
  }
  Result<std::optional<Delivery>> matched = pending_.OnAnswer(
      in.user_id, opened->exchange_id, opened->outcome, std::move(opened->payload), Now());
  if (!matched.ok()) {
    stats_->dropped_answers.Add();
    log_->Warn("unexpected_answer", {{"exchange_id", a.exchange_id()},
                                     {"from", in.user_id},
                                     {"reason", matched.status().message()}});
    return;
  }
  if (*matched) Deliver(std::move(**matched));
}

// The decision vouched for `provider` again: its answers held unopened are handled now,
// before the decision itself, so that the rendezvous finds them.
void InterfaceNode::Impl::OpenHeldAnswers(const std::string& provider) {
  for (v1::Answer& a : unopened_.Take(provider)) {
    Incoming in;
    in.user_id = provider;
    *in.envelope.mutable_answer() = std::move(a);
    HandleAnswer(in);
  }
}

// Hands the result to the asking system, wipes the answer, and confirms receipt to the
// core when the provider's answer was delivered.
void InterfaceNode::Impl::Deliver(Delivery d) {
  outbox_.Decided(d.request_id);
  v1::Envelope e = Stamped(d.request_id);
  *e.mutable_inquiry_result() = std::move(d.result);
  const v1::Outcome outcome = e.inquiry_result().outcome();
  (void)SendLocal(d.client, e);
  WipeString(e.mutable_inquiry_result()->mutable_payload());
  stats_->latency.ObserveMicros(Now() - d.started_us);
  NodeStats::Count(stats_->inquiries, outcome);
  if (d.send_receipt) {
    v1::Envelope receipt = Stamped(d.request_id);
    receipt.mutable_receipt()->set_received(true);
    receipt.mutable_receipt()->set_outcome(outcome);
    receipt.mutable_receipt()->set_exchange_id(d.exchange_id);
    SendToCore(receipt);
    if (KeepsForResend()) outbox_.KeepReport(receipt, Now());
  }
}

}  // namespace ipn::interface
