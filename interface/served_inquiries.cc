// ServedInquiries: forwarded inquiries being served, the serving clients by item, expiry.
#include "interface/served_inquiries.h"

#include <algorithm>

namespace ipn::interface {

Status ServedInquiries::AddServer(const std::string& client,
                                  const std::vector<std::string>& items) {
  if (items.size() > kMaxServedItems) {
    return Status::InvalidArgument("a serving client names " + std::to_string(items.size()) +
                                   " items; the limit is " + std::to_string(kMaxServedItems));
  }
  for (const std::string& item : items) {
    if (item.empty() || item.size() > kMaxServedItemBytes) {
      return Status::InvalidArgument("a served item is " + std::to_string(item.size()) +
                                     " bytes; it must be 1 to " +
                                     std::to_string(kMaxServedItemBytes));
    }
  }
  std::set<std::string, std::less<>> named(items.begin(), items.end());
  auto it = std::find_if(servers_.begin(), servers_.end(),
                         [&](const Server& s) { return s.client == client; });
  if (it != servers_.end()) {
    it->items = std::move(named);
  } else {
    servers_.push_back(Server{client, std::move(named), 0});
  }
  return Status::Ok();
}

std::vector<ServedInquiry> ServedInquiries::RemoveServer(const std::string& client) {
  std::erase_if(servers_, [&](const Server& s) { return s.client == client; });
  std::vector<ServedInquiry> orphaned;
  for (auto it = served_.begin(); it != served_.end();) {
    if (it->second.server == client) {
      orphaned.push_back(std::move(it->second));
      it = served_.erase(it);
    } else {
      ++it;
    }
  }
  return orphaned;
}

size_t ServedInquiries::Choose(std::string_view item) const {
  // Two passes: the clients naming the item, then (only if none does) the general ones.
  // Among the candidates, the least recently chosen; ties (never chosen) by joining order.
  for (const bool named : {true, false}) {
    size_t pick = servers_.size();
    for (size_t i = 0; i < servers_.size(); ++i) {
      const Server& s = servers_[i];
      const bool candidate = named ? s.items.contains(item) : s.items.empty();
      if (candidate && (pick == servers_.size() || s.last_turn < servers_[pick].last_turn)) {
        pick = i;
      }
    }
    if (pick != servers_.size()) return pick;
  }
  return servers_.size();
}

std::optional<std::string> ServedInquiries::NextServer(std::string_view item) {
  const size_t i = Choose(item);
  if (i == servers_.size()) return std::nullopt;
  servers_[i].last_turn = ++turns_;
  return servers_[i].client;
}

bool ServedInquiries::HasServer(std::string_view item) const {
  return Choose(item) != servers_.size();
}

Status ServedInquiries::CanAdd(const std::string& exchange_id) const {
  if (served_.count(exchange_id) != 0) {
    return Status::AlreadyExists("exchange " + exchange_id + " is already being served");
  }
  if (served_.size() >= max_served_) {
    return Status::ResourceExhausted("too many forwarded inquiries awaiting the agency (" +
                                     std::to_string(max_served_) + ")");
  }
  return Status::Ok();
}

Status ServedInquiries::Add(ServedInquiry x) {
  IPN_RETURN_IF_ERROR(CanAdd(x.exchange_id));
  const std::string id = x.exchange_id;
  served_.emplace(id, std::move(x));
  return Status::Ok();
}

Result<ServedInquiry> ServedInquiries::Take(const std::string& exchange_id,
                                            const std::string& client) {
  auto it = served_.find(exchange_id);
  if (it == served_.end()) return Status::NotFound("no forwarded inquiry " + exchange_id);
  if (it->second.server != client) {
    return Status::PermissionDenied("exchange " + exchange_id +
                                    " was handed to another serving client");
  }
  ServedInquiry x = std::move(it->second);
  served_.erase(it);
  return x;
}

std::vector<ServedInquiry> ServedInquiries::Expire(int64_t now_us) {
  std::vector<ServedInquiry> out;
  for (auto it = served_.begin(); it != served_.end();) {
    if (it->second.deadline_us + grace_us_ <= now_us) {
      out.push_back(std::move(it->second));
      it = served_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace ipn::interface
