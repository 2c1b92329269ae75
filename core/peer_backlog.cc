// PeerBacklog: per-node waiting messages for slow nodes.
#include "core/peer_backlog.h"

namespace ipn::core {

void PeerBacklog::Hold(const std::string& to, v1::Envelope e) {
  std::deque<v1::Envelope>& q = waiting_[to];
  if (q.size() >= max_per_node_) {
    q.pop_front();  // the oldest goes: its exchange ends by its deadline at the node
    --held_;
    ++dropped_;
  }
  q.push_back(std::move(e));
  ++held_;
}

Status PeerBacklog::Send(const std::string& to, v1::Envelope e, const SendFn& send) {
  if (waiting_.count(to) != 0) {
    Hold(to, std::move(e));
    return Status::Ok();
  }
  Status s = send(to, e);
  if (s.code() == Status::Code::kResourceExhausted) {
    Hold(to, std::move(e));
    return Status::Ok();
  }
  return s;
}

std::vector<std::string> PeerBacklog::Retry(const SendFn& send) {
  std::vector<std::string> gone;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    std::deque<v1::Envelope>& q = it->second;
    Status s;
    while (!q.empty() && (s = send(it->first, q.front())).ok()) {
      q.pop_front();
      --held_;
    }
    if (!q.empty() && s.code() != Status::Code::kResourceExhausted) {
      gone.push_back(it->first);
      held_ -= q.size();
      dropped_ += q.size();
      q.clear();
    }
    it = q.empty() ? waiting_.erase(it) : std::next(it);
  }
  return gone;
}

}  // namespace ipn::core
