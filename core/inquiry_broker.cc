// InquiryBroker: the inquiry lifecycle at the core. See inquiry_broker.h for the map.
#include "core/inquiry_broker.h"

#include <sodium.h>

#include "common/envelope_io.h"
#include "ipn/v1/wire_names.h"

namespace ipn::core {
namespace {

constexpr std::array<uint8_t, 32> kNoPerson{};  // record symbol of a refusal with no person

// The text a record holds for a deny reason or an outcome: "NO_SUCH_LINK", "PROVIDED".
std::string RecordText(v1::DenyReason r) {
  return std::string(v1::DenyReasonName(r));
}
std::string RecordText(v1::Outcome o) {
  return std::string(v1::OutcomeName(o));
}

records::Event EventOf(v1::Outcome o) {
  switch (o) {
    case v1::OUTCOME_PROVIDED: return records::Event::kProvided;
    case v1::OUTCOME_NOT_HELD: return records::Event::kNotHeld;
    case v1::OUTCOME_TIMED_OUT: return records::Event::kTimedOut;
    default: return records::Event::kFailed;
  }
}

}  // namespace

InquiryBroker::InquiryBroker(Deps deps, BrokerOptions options)
    : deps_(deps), options_(options), exchanges_(options.remember_request_ids_us) {}

InquiryBroker::~InquiryBroker() {
  for (Awaiting& a : awaiting_) DropAwaiting(a);  // symbols do not outlive the broker
}

v1::Envelope InquiryBroker::Reply(const std::string& request_id) const {
  v1::Envelope e;
  StampEnvelope(&e, request_id, deps_.env->NowMicros());
  return e;
}

void InquiryBroker::OnInquiry(const std::string& inquirer, const v1::Envelope& envelope) {
  const v1::Inquiry& q = envelope.inquiry();
  ExchangeFacts facts;
  facts.inquirer = inquirer;
  facts.provider = q.provider_code();
  facts.business = q.business_code();
  facts.item = q.item_code();
  facts.request_id = envelope.request_id();
  facts.record_symbol = kNoPerson;

  const int64_t now = deps_.env->NowMicros();
  // 0. Sent again by a node whose session with the core changed (a failover) before the
  //    decision reached it: the exchange stands, and its decision is said again. Not
  //    charged: the node sends all it kept at once, and the inquiry was charged when it
  //    came first (this records nothing and translates nothing).
  if (!facts.request_id.empty()) {
    if (const Exchange* open = exchanges_.FindByKey(ExchangeTable::Key(inquirer, facts.request_id));
        open != nullptr) {
      return DecideAgain(*open);
    }
  }
  // 1. The inquirer's rate, before anything else is looked at: a flooding agency is held
  //    here, at the cost of one token bucket, and its refusals are aggregated.
  if (int64_t retry_at = 0; !deps_.policy->Charge(inquirer, now, &retry_at)) {
    return RefuseUnfiled(facts, v1::DENY_REASON_RATE_LIMITED,
                         inquirer + " is over its rate of inquiries; try again later", retry_at);
  }
  // 2. Not a repeat of a request id this inquirer already used: memory first (open,
  //    recent, or not yet durable), then the durable index, so a request id stays used
  //    for as long as its records are kept, across restarts. The first inquiry's records
  //    stand; the repeat is answered and counted in the aggregate.
  const std::string key = ExchangeTable::Key(inquirer, facts.request_id);
  if (!facts.request_id.empty() &&
      (exchanges_.Seen(key) || deps_.env->RequestIdRecorded(inquirer, facts.request_id))) {
    deps_.stats->duplicates.Add();
    return RefuseUnfiled(
        facts, v1::DENY_REASON_DUPLICATE_REQUEST,
        "request id " + facts.request_id + " was already used; the first inquiry stands");
  }
  // 3. Well-formed. A malformed inquiry names no one and uses no request id: the agency
  //    may send it again, corrected, under the same id.
  if (facts.request_id.empty() || facts.business.empty() || facts.item.empty() ||
      facts.provider.empty() || q.inquirer_symbol().empty()) {
    return RefuseUnfiled(
        facts, v1::DENY_REASON_MALFORMED,
        "an inquiry needs a request id, a symbol, a business, an item and a provider");
  }
  exchanges_.RememberUsed(key, now);

  // 4. The permitted-link list and the directory (the rate was charged in step 1).
  const policy::Decision decision =
      deps_.policy->Check(inquirer, facts.business, facts.provider, facts.item, now);
  // 5. Open the inquirer's symbol before acting on a refusal: a refused inquiry about a
  //    real person is filed under that person's record symbol, so the person sees it at
  //    the portal and the commission can count it per person. Only a refusal with no
  //    valid symbol is filed under no one.
  auto bytes = std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(q.inquirer_symbol().data()), q.inquirer_symbol().size());
  Result<symbol::SymbolService::Translation> t =
      deps_.symbols->Translate(bytes, inquirer, facts.provider);
  if (t.ok()) facts.record_symbol = t->record_symbol.bytes;
  if (!decision.allowed) {
    return Refuse(facts, static_cast<v1::DenyReason>(static_cast<int>(decision.reason)),
                  decision.Explain());
  }
  if (!t.ok()) {
    return Refuse(facts, v1::DENY_REASON_INVALID_SYMBOL,
                  "the inquirer's symbol is not valid: " + t.status().message());
  }
  if (!t->provider_issued) {
    return Refuse(facts, v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER,
                  facts.provider + " was never issued a symbol for this person: not held");
  }
  Accept(std::move(facts), q, t->provider_symbol, decision.Explain(), decision.row);
}

void InquiryBroker::Refuse(const ExchangeFacts& facts, v1::DenyReason reason,
                           const std::string& explanation) {
  const records::Event event = reason == v1::DENY_REASON_NOT_ISSUED_TO_PROVIDER
                                   ? records::Event::kNotHeld
                                   : records::Event::kInquiryRefused;
  deps_.env->AddRecord(
      MakeExchangeRecord(facts, event, RecordText(reason), false, deps_.env->NowMicros()));
  v1::Envelope e = Reply(facts.request_id);
  v1::InquiryDecision* d = e.mutable_inquiry_decision();
  d->set_accepted(false);
  d->set_deny_reason(reason);
  d->set_explanation(explanation);
  deps_.env->SendAfterCommit(facts.inquirer, std::move(e));
  deps_.stats->Refused(reason);
  deps_.log->Info("inquiry_refused", {{"request_id", facts.request_id},
                                      {"inquirer", facts.inquirer},
                                      {"provider", facts.provider},
                                      {"business", facts.business},
                                      {"item", facts.item},
                                      {"reason", RecordText(reason)}});
}

void InquiryBroker::RefuseUnfiled(const ExchangeFacts& facts, v1::DenyReason reason,
                                  const std::string& explanation, int64_t retry_at_us) {
  v1::Envelope e = Reply(facts.request_id);
  v1::InquiryDecision* d = e.mutable_inquiry_decision();
  d->set_accepted(false);
  d->set_deny_reason(reason);
  d->set_explanation(explanation);
  if (retry_at_us > 0) {
    d->set_retry_after_unix_us(retry_at_us);
    d->set_retry_after_us(std::max<int64_t>(0, retry_at_us - deps_.env->NowMicros()));
  }
  deps_.env->SendAfterCommit(facts.inquirer, std::move(e));
  deps_.stats->Refused(reason);
  deps_.refusals->Add(facts.inquirer, RecordText(reason), facts.request_id, deps_.env->NowMicros());
  deps_.log->Debug("inquiry_refused_unfiled", {{"request_id", facts.request_id},
                                               {"inquirer", facts.inquirer},
                                               {"reason", RecordText(reason)}});
}

void InquiryBroker::Accept(ExchangeFacts facts, const v1::Inquiry& inquiry,
                           const symbol::AgencySymbol& provider_symbol,
                           const std::string& explanation, int row) {
  const int64_t now = deps_.env->NowMicros();
  const int64_t deadline = now + options_.provider_deadline_us;
  std::string id = deps_.env->NewExchangeId(facts.inquirer, facts.request_id);
  Exchange& x = exchanges_.Open(Exchange(std::move(id), std::move(facts), now, deadline,
                                         deadline + options_.receipt_grace_us));
  deps_.env->AddRecord(x.MakeRecord(records::Event::kInquiryAccepted, "ACCEPTED", now));
  deps_.stats->accepted.Add();

  // The forward leaves now, before the records are durable, so the provider works while
  // the disk syncs. That is safe because the inquirer's node releases nothing before the
  // accepted decision, and the decision below waits for the records (SendAfterCommit).
  v1::PeerNode provider_node;
  Status sent = Forward(x, inquiry, provider_symbol, &provider_node);
  if (!sent.ok() && now < await_nodes_until_us_ &&
      awaiting_.size() < options_.max_awaiting_provider) {
    // Just after a takeover the provider's node may not have said Hello here yet: it
    // waits for it (OnNodeConnected), at most until await_nodes_until_us_.
    awaiting_.push_back(Awaiting{x.id(), inquiry, provider_symbol, explanation, row});
    return;
  }
  if (!sent.ok()) return Unreachable(x);
  Forwarded(x, explanation, row, std::move(provider_node));
}

void InquiryBroker::Forwarded(const Exchange& x, const std::string& explanation, int row,
                              v1::PeerNode provider_node) {
  v1::Envelope e = Reply(x.facts().request_id);
  v1::InquiryDecision* d = e.mutable_inquiry_decision();
  *d->mutable_provider_node() = std::move(provider_node);
  deps_.env->AddRecord(
      x.MakeRecord(records::Event::kForwarded, "FORWARDED", deps_.env->NowMicros()));
  d->set_accepted(true);
  d->set_explanation(explanation);
  d->set_exchange_id(x.id());
  deps_.env->SendAfterCommit(x.facts().inquirer, std::move(e));
  // Debug, not Info: the accepted record is the evidence; a log line per lawful inquiry
  // would cost a write on the decision's path and grow the log with the traffic.
  deps_.log->Debug("inquiry_accepted", {{"request_id", x.facts().request_id},
                                        {"exchange_id", x.id()},
                                        {"inquirer", x.facts().inquirer},
                                        {"provider", x.facts().provider},
                                        {"business", x.facts().business},
                                        {"item", x.facts().item},
                                        {"row", row}});
}

Status InquiryBroker::Forward(const Exchange& x, const v1::Inquiry& inquiry,
                              const symbol::AgencySymbol& provider_symbol,
                              v1::PeerNode* provider_node) {
  const std::string* provider_endpoint = deps_.nodes->AnswerEndpoint(x.facts().provider);
  const std::string* inquirer_endpoint = deps_.nodes->AnswerEndpoint(x.facts().inquirer);
  std::shared_ptr<const policy::Policy> current = deps_.policy->Current();
  const policy::Agency* inquirer = current->FindAgency(x.facts().inquirer);
  const policy::Agency* provider = current->FindAgency(x.facts().provider);
  if (provider_endpoint == nullptr || inquirer_endpoint == nullptr || inquirer == nullptr ||
      provider == nullptr || !inquirer->curve_public_key || !provider->curve_public_key) {
    return Status::Unavailable("the provider's node is not connected");
  }
  // The provider's node knows the exchange only by its id: the inquirer's request id
  // stays between the inquirer and the core.
  v1::Envelope fwd = Reply(x.id());
  v1::ForwardedInquiry* f = fwd.mutable_forwarded_inquiry();
  f->set_exchange_id(x.id());
  f->set_provider_symbol(provider_symbol.bytes.data(), provider_symbol.bytes.size());
  f->set_inquirer_code(x.facts().inquirer);
  f->set_business_code(x.facts().business);
  f->set_item_code(x.facts().item);
  *f->mutable_parameters() = inquiry.parameters();
  f->set_deadline_unix_us(x.deadline_us());
  v1::PeerNode* peer = f->mutable_inquirer_node();
  peer->set_agency_code(x.facts().inquirer);
  peer->set_curve_public_key(inquirer->curve_public_key->data(), 32);
  peer->set_answer_endpoint(*inquirer_endpoint);
  Status sent = deps_.env->SendNow(x.facts().provider, fwd);
  // The provider's symbol must not outlive the send in this copy either.
  WipeString(f->mutable_provider_symbol());
  // Whose node will answer, for the inquirer's decision: from the lookups made here.
  provider_node->set_agency_code(x.facts().provider);
  provider_node->set_curve_public_key(provider->curve_public_key->data(), 32);
  provider_node->set_answer_endpoint(*provider_endpoint);
  return sent;
}

Status InquiryBroker::ProviderNode(const Exchange& x, v1::PeerNode* provider_node) const {
  const std::string* endpoint = deps_.nodes->AnswerEndpoint(x.facts().provider);
  std::shared_ptr<const policy::Policy> current = deps_.policy->Current();
  const policy::Agency* provider = current->FindAgency(x.facts().provider);
  if (endpoint == nullptr || provider == nullptr || !provider->curve_public_key) {
    return Status::Unavailable("the provider's node is not connected");
  }
  provider_node->set_agency_code(x.facts().provider);
  provider_node->set_curve_public_key(provider->curve_public_key->data(), 32);
  provider_node->set_answer_endpoint(*endpoint);
  return Status::Ok();
}

void InquiryBroker::OnNodeConnected(const std::string& agency) {
  for (auto it = awaiting_.begin(); it != awaiting_.end();) {
    Exchange* x = exchanges_.Find(it->exchange_id);
    // Waiting for the provider's node, or for the inquirer's (the answer's destination).
    if (x != nullptr && x->facts().provider != agency && x->facts().inquirer != agency) {
      ++it;
      continue;
    }
    // Still missing the other node: it waits on (until AwaitNodesUntil's time).
    v1::PeerNode provider_node;
    if (x != nullptr && !Forward(*x, it->inquiry, it->provider_symbol, &provider_node).ok()) {
      ++it;
      continue;
    }
    // Else it timed out meanwhile: its end is on record.
    if (x != nullptr) Forwarded(*x, it->explanation, it->row, std::move(provider_node));
    DropAwaiting(*it);
    it = awaiting_.erase(it);
  }
}

void InquiryBroker::DropAwaiting(Awaiting& a) {
  sodium_memzero(a.provider_symbol.bytes.data(), a.provider_symbol.bytes.size());
  WipeString(a.inquiry.mutable_inquirer_symbol());
}

std::optional<int64_t> InquiryBroker::NextDeadline() const {
  std::optional<int64_t> next = exchanges_.NextDeadline();
  if (!awaiting_.empty() && (!next || await_nodes_until_us_ < *next)) next = await_nodes_until_us_;
  return next;
}

void InquiryBroker::DecideAgain(const Exchange& x) {
  v1::Envelope e = Reply(x.facts().request_id);
  v1::InquiryDecision* d = e.mutable_inquiry_decision();
  d->set_accepted(true);
  d->set_exchange_id(x.id());
  d->set_explanation("accepted before; sent again after the core's session changed");
  // The provider's node may not have said Hello to this core yet: its key is enough for
  // the inquirer's node to open the answer, which travels node to node.
  if (!ProviderNode(x, d->mutable_provider_node()).ok()) {
    std::shared_ptr<const policy::Policy> current = deps_.policy->Current();
    const policy::Agency* provider = current->FindAgency(x.facts().provider);
    if (provider == nullptr || !provider->curve_public_key) return;  // suspended since
    d->mutable_provider_node()->set_agency_code(x.facts().provider);
    d->mutable_provider_node()->set_curve_public_key(provider->curve_public_key->data(), 32);
  }
  deps_.env->SendAfterCommit(x.facts().inquirer, std::move(e));
  deps_.stats->decided_again.Add();
}

size_t InquiryBroker::Resume(const std::vector<OpenExchange>& open) {
  size_t resumed = 0;
  for (const OpenExchange& o : open) {
    const records::Record& r = o.opening;
    ExchangeFacts facts = ExchangeFactsOf(r);
    const std::string key = ExchangeTable::Key(facts.inquirer, facts.request_id);
    if (exchanges_.Seen(key)) continue;  // already here (never twice)
    std::string id = deps_.env->NewExchangeId(facts.inquirer, facts.request_id);
    const int64_t deadline = r.time_unix_us + options_.provider_deadline_us;
    Exchange& x = exchanges_.Open(Exchange(std::move(id), std::move(facts), r.time_unix_us,
                                           deadline, deadline + options_.receipt_grace_us));
    if (o.outcome) {
      const v1::Outcome outcome = *o.outcome == records::Event::kProvided  ? v1::OUTCOME_PROVIDED
                                  : *o.outcome == records::Event::kNotHeld ? v1::OUTCOME_NOT_HELD
                                                                           : v1::OUTCOME_FAILED;
      x.SetOutcome(outcome, o.non_disclosure);
    }
    if (o.has_receipt) x.SetReceipt();
    ++resumed;
  }
  return resumed;
}

// Unreachable provider: a definite, recorded outcome now, not at the deadline.
void InquiryBroker::Unreachable(const Exchange& x) {
  const int64_t now = deps_.env->NowMicros();
  deps_.env->AddRecord(x.MakeRecord(records::Event::kTimedOut, "UNREACHABLE", now));
  v1::Envelope e = Reply(x.facts().request_id);
  e.mutable_inquiry_result()->set_outcome(v1::OUTCOME_UNREACHABLE);
  e.mutable_inquiry_result()->set_provider_code(x.facts().provider);
  e.mutable_inquiry_result()->set_exchange_id(x.id());
  e.mutable_inquiry_result()->set_explanation("the provider's node is not reachable");
  deps_.env->SendAfterCommit(x.facts().inquirer, std::move(e));
  deps_.stats->Ended(v1::OUTCOME_UNREACHABLE);
  deps_.log->Warn("provider_unreachable", {{"request_id", x.facts().request_id},
                                           {"exchange_id", x.id()},
                                           {"provider", x.facts().provider}});
  exchanges_.Close(x.id(), now);
}

void InquiryBroker::OnOutcome(const std::string& provider, const v1::Envelope& envelope) {
  const v1::ProvisionOutcome& o = envelope.provision_outcome();
  Exchange* x = exchanges_.Find(o.exchange_id());
  const char* why = x == nullptr                      ? "no open exchange"
                    : x->facts().provider != provider ? "not the provider of this exchange"
                    : x->has_outcome()                ? "outcome already recorded"
                                                      : nullptr;
  if (why != nullptr) {
    deps_.stats->unexpected_outcomes.Add();
    // Nodes send their recent outcomes again after a failover, so an outcome for a closed
    // exchange or one already recorded is expected (counted); another agency's is not.
    const bool foreign = x != nullptr && x->facts().provider != provider;
    const Logger::Fields fields = {
        {"exchange_id", o.exchange_id()}, {"provider", provider}, {"reason", why}};
    if (foreign) {
      deps_.log->Warn("unexpected_outcome", fields);
    } else {
      deps_.log->Debug("unexpected_outcome", fields);
    }
    return;
  }
  v1::Outcome outcome = o.outcome();
  if (outcome != v1::OUTCOME_PROVIDED && outcome != v1::OUTCOME_NOT_HELD) {
    outcome = v1::OUTCOME_FAILED;
  }
  x->SetOutcome(outcome, o.non_disclosure());
  deps_.env->AddRecord(
      x->MakeRecord(EventOf(outcome), RecordText(outcome), deps_.env->NowMicros()));
  deps_.stats->Ended(outcome);
  if (outcome == v1::OUTCOME_FAILED && !o.detail().empty()) {
    deps_.log->Info("provision_failed",
                    {{"exchange_id", x->id()}, {"detail", o.detail().substr(0, 200)}});
  }
  if (x->closed()) Close(x);
}

void InquiryBroker::OnReceipt(const std::string& inquirer, const v1::Envelope& envelope) {
  const v1::Receipt& r = envelope.receipt();
  Exchange* x = exchanges_.Find(r.exchange_id());
  if (x == nullptr || x->facts().inquirer != inquirer || x->has_receipt()) {
    deps_.stats->unexpected_receipts.Add();
    // As for outcomes: a receipt sent again after a failover is expected; a foreign one not.
    const Logger::Fields fields = {{"exchange_id", r.exchange_id()}, {"inquirer", inquirer}};
    if (x != nullptr && x->facts().inquirer != inquirer) {
      deps_.log->Warn("unexpected_receipt", fields);
    } else {
      deps_.log->Debug("unexpected_receipt", fields);
    }
    return;
  }
  x->SetReceipt();
  deps_.env->AddRecord(x->MakeRecord(records::Event::kReceived,
                                     r.received() ? RecordText(r.outcome()) : "NOT_RECEIVED",
                                     deps_.env->NowMicros()));
  deps_.stats->exchange_latency.ObserveMicros(deps_.env->NowMicros() - x->accepted_us());
  if (x->closed()) Close(x);
}

void InquiryBroker::ExpireDeadlines() {
  const int64_t now = deps_.env->NowMicros();
  // The nodes had their moment to say Hello: a provider still missing is unreachable.
  if (now >= await_nodes_until_us_) {
    for (Awaiting& a : awaiting_) {
      if (const Exchange* x = exchanges_.Find(a.exchange_id)) Unreachable(*x);
      DropAwaiting(a);
    }
    awaiting_.clear();
  }
  for (const std::string& id : exchanges_.Expired(now)) {
    Exchange* x = exchanges_.Find(id);
    if (x->has_outcome()) {
      NotConfirmed(x, now);
    } else {
      TimeOut(x, now);
    }
  }
}

void InquiryBroker::TimeOut(Exchange* x, int64_t now) {
  x->SetOutcome(v1::OUTCOME_TIMED_OUT, false);
  deps_.env->AddRecord(x->MakeRecord(records::Event::kTimedOut, "TIMED_OUT", now));
  v1::Envelope e = Reply(x->facts().request_id);
  e.mutable_inquiry_result()->set_outcome(v1::OUTCOME_TIMED_OUT);
  e.mutable_inquiry_result()->set_provider_code(x->facts().provider);
  e.mutable_inquiry_result()->set_exchange_id(x->id());
  e.mutable_inquiry_result()->set_explanation("the provider did not answer before the deadline");
  deps_.env->SendAfterCommit(x->facts().inquirer, std::move(e));
  deps_.stats->Ended(v1::OUTCOME_TIMED_OUT);
  deps_.log->Warn("provider_timed_out", {{"request_id", x->facts().request_id},
                                         {"exchange_id", x->id()},
                                         {"provider", x->facts().provider}});
  // The inquirer's node ends the inquiry on this result and sends no receipt.
  Close(x);
}

// The provider's outcome is recorded but the inquirer's node never confirmed: it
// restarted or vanished with the answer (nodes hold answers in memory only). The exchange
// ends with that on record instead of staying open for ever. Nothing is sent: the
// inquirer's node, if it is still there, ends the inquiry by its own deadline. Not logged
// per exchange (a dead node would otherwise cost a line per inquiry): counted.
void InquiryBroker::NotConfirmed(Exchange* x, int64_t now) {
  x->SetReceipt();
  deps_.env->AddRecord(x->MakeRecord(records::Event::kReceived, "NOT_CONFIRMED", now));
  deps_.stats->receipts_not_confirmed.Add();
  Close(x);
}

// `x` is gone afterwards (ExchangeTable::Close reads the id only before it erases).
void InquiryBroker::Close(Exchange* x) {
  exchanges_.Close(x->id(), deps_.env->NowMicros());
}

}  // namespace ipn::core
