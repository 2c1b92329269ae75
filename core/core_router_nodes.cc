// CoreRouter, the nodes' side: their sessions (Hello, Welcome), sending to them (at once,
// or after a slow node's backlog), and refusing what an authenticated agency may not send,
// on record in the refusal ledger's aggregates. See core_router.cc for the loop.
#include <algorithm>

#include "common/envelope_io.h"
#include "core/core_router_impl.h"
#include "core/message_admission.h"
#include "records/audit_record.h"

namespace ipn::core {

void CoreRouter::Impl::Flush(Outbox* outbox) {
  for (auto& [to, envelope] : *outbox) {
    Status s = Send(to, std::move(envelope));
    if (!s.ok()) NodeGone(to, s);
  }
  outbox->clear();
}

Status CoreRouter::Impl::Send(const std::string& to, v1::Envelope envelope) {
  return backlog_.Send(to, std::move(envelope), send_now_);
}

// A node the router no longer knows (its connection closed): it leaves the connected set
// until it says Hello again. Logged once per departure, not per message.
void CoreRouter::Impl::NodeGone(const std::string& agency, const Status& why) {
  if (why.code() == Status::Code::kUnavailable && nodes_.Disconnect(agency)) {
    stats_->connected_nodes.Set(static_cast<int64_t>(nodes_.size()));
    log_->Warn("node_gone", {{"agency", agency}, {"reason", why.message()}});
  } else if (why.code() != Status::Code::kUnavailable) {
    log_->Warn("send_failed", {{"to", agency}, {"reason", why.message()}});
  }
}

// A message past a limit or with an unrecordable field is refused and the refusal
// recorded (CheckAdmissible says which field).
bool CoreRouter::Impl::Recordable(const Incoming& in) {
  const Status fit = CheckAdmissible(in.envelope);
  if (fit.ok()) return true;
  RefuseMessage(in, v1::ERROR_CODE_MALFORMED, "MALFORMED", "refused: " + fit.message());
  return false;
}

void CoreRouter::Impl::RefuseMessage(const Incoming& in, v1::ErrorCode code,
                                     std::string_view ledger_reason, const std::string& reason) {
  refusals_.Add(in.user_id, ledger_reason, in.envelope.request_id(), NowMicros());
  // The request id is echoed so the node can match the error.
  SendError(in, code, reason);
}

void CoreRouter::Impl::SubmitRead(const Incoming& in) {
  Status queued = reads_->Submit(in.user_id, in.envelope);
  if (!queued.ok()) {
    RefuseMessage(in, v1::ERROR_CODE_RESOURCE_EXHAUSTED, "READS_BUSY", queued.message());
  }
}

// What finished reads produced: their audit records join this iteration's commit, and
// their replies leave after it (SendAfterCommit), as if the loop had served them.
void CoreRouter::Impl::ApplyReads() {
  for (ReadWorker::Output& out : reads_->Take()) {
    for (records::Record& r : out.records) AddRecord(std::move(r));
    for (auto& [to, e] : out.messages) SendAfterCommit(std::move(to), std::move(e));
  }
}

// Aggregate records for the refusals filed under no person (RefusalLedger): one record
// and one log line per agency and reason per interval.
void CoreRouter::Impl::RecordRefusals(bool all) {
  for (const RefusalTally& t : refusals_.TakeDue(NowMicros(), all)) {
    AddRecord(t.ToRecord());
    stats_->refusal_aggregates.Add();
    log_->Info("refusals_recorded",
               {{"agency", t.agency},
                {"reason", t.reason},
                {"count", t.count},
                {"first_request_id", records::ClipRecordText(t.first_request_id, 128)},
                {"last_request_id", records::ClipRecordText(t.last_request_id, 128)}});
  }
}

void CoreRouter::Impl::HandleHello(const Incoming& in) {
  const v1::Hello& hello = in.envelope.hello();
  if (hello.agency_code() != in.user_id) {
    return RefuseMessage(in, v1::ERROR_CODE_PERMISSION_DENIED, "HELLO_REFUSED",
                         "Hello names another agency than the key it connected with");
  }
  if (Status ok = CheckAnswerEndpoint(hello.answer_endpoint()); !ok.ok()) {
    return RefuseMessage(in, v1::ERROR_CODE_MALFORMED, "HELLO_REFUSED",
                         "Hello's answer endpoint: " + ok.message());
  }
  const std::string* known = nodes_.AnswerEndpoint(in.user_id);
  const bool changed = known == nullptr || *known != hello.answer_endpoint();
  nodes_.Connect(in.user_id, hello.answer_endpoint());
  stats_->connected_nodes.Set(static_cast<int64_t>(nodes_.size()));
  if (broker_) broker_->OnNodeConnected(in.user_id);  // inquiries waiting for it go now
  log_->Info("node_connected",
             {{"agency", in.user_id},
              {"answer_endpoint", hello.answer_endpoint()},
              {"changed", changed},
              {"software_version", hello.software_version().substr(0, 64)},
              {"clock_skew_ms", (in.envelope.sent_at_unix_us() - NowMicros()) / 1000}});
  // A newcomer or a node that moved: every connected node learns of it (and it of
  // everyone). A node re-saying Hello from where it was: only it is welcomed again.
  SendWelcomes(changed ? nodes_.Agencies() : std::vector{in.user_id});
}

// Each node's Welcome: the peers the core vouches for, and its own agency's rate.
void CoreRouter::Impl::SendWelcomes(const std::vector<std::string>& to) {
  std::shared_ptr<const policy::Policy> current = policy_->Current();
  const v1::Welcome welcome = nodes_.MakeWelcome(*current);
  for (const std::string& code : to) {
    v1::Envelope e = Reply("welcome");
    *e.mutable_welcome() = welcome;
    if (const policy::Agency* a = current->FindAgency(code)) {
      e.mutable_welcome()->set_rate_per_second(a->rate_per_second);
      e.mutable_welcome()->set_burst(a->burst);
    }
    SendAfterCommit(code, std::move(e));
  }
}

}  // namespace ipn::core
