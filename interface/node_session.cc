// InterfaceNode: its session with the core — Hello on every new connection, Hello again
// until welcomed when there are several sites, and, once welcomed, what the last session
// may have lost sent again (CoreOutbox; DESIGN.md §8).
#include "interface/node_impl.h"

namespace ipn::interface {

void InterfaceNode::Impl::SendHello() {
  v1::Envelope hello = Stamped("hello");
  hello.mutable_hello()->set_agency_code(options_.agency_code);
  hello.mutable_hello()->set_answer_endpoint(answer_endpoint_);
  hello.mutable_hello()->set_software_version("ipn-node 0.1");
  SendToCore(hello);
}

// A new session with the core (it restarted, or the connection was re-made after a
// heartbeat timeout) knows nothing of this node: say Hello again, at once. The core
// rebuilds its view of connected nodes only from Hellos.
void InterfaceNode::Impl::WatchCore() {
  Result<std::vector<ConnectionWatch::Event>> events = core_watch_->Take();
  if (!events.ok()) {
    log_->Error("core_watch_failed", {{"reason", events.status().ToString()}});
    return;
  }
  for (ConnectionWatch::Event ev : *events) {
    switch (ev) {
      case ConnectionWatch::Event::kConnected:
        if (++core_sessions_ > 1) {
          log_->Info("core_reconnected", {{"sessions", core_sessions_}});
          StartSession();
        }
        break;
      case ConnectionWatch::Event::kDisconnected:
        log_->Warn("core_disconnected", {});
        // Several sites: a Hello sent while a paused leader's connection was still up may
        // have gone to it; now that it is dropped, the leader hears it (Hello is idempotent).
        if (core_endpoints_.size() > 1) StartSession();
        break;
      case ConnectionWatch::Event::kRefused:
        // Every retry would say so again: only the first refusal in a row is logged.
        if (!core_refused_) log_->Error("core_refused_this_node", {});
        core_refused_ = true;
        continue;
    }
    core_refused_ = false;
  }
}

// A new session with the core: Hello at once. Several sites: a Hello can be lost (sent to
// a paused leader whose connection is still up, or into one being torn down), so it is
// said again every kHelloAgainUs until a Welcome shows the core has this node; then what
// the last session may have lost is sent again (ResendToCore).
void InterfaceNode::Impl::StartSession() {
  SendHello();
  if (!KeepsForResend()) return;
  welcome_due_ = true;
  hello_again_us_ = Now() + kHelloAgainUs;
}

// A new session with the core (several sites: perhaps a new leader) may lack what the
// last one was told and had not recorded: it is all sent again (CoreOutbox).
void InterfaceNode::Impl::ResendToCore() {
  if (!KeepsForResend()) return;
  std::vector<v1::Envelope> again = outbox_.ToResend(Now());
  if (again.empty()) return;
  for (v1::Envelope& e : again) {
    SendToCore(e);
    if (e.has_inquiry()) WipeString(e.mutable_inquiry()->mutable_inquirer_symbol());
  }
  stats_->resent.Add(again.size());
  log_->Info("sent_to_core_again", {{"messages", again.size()}});
}

}  // namespace ipn::interface
