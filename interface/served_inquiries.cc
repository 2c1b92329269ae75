// ServedInquiries: forwarded inquiries being served, the serving clients, expiry.
#include "interface/served_inquiries.h"

#include <algorithm>

namespace ipn::interface {

void ServedInquiries::AddServer(const std::string& client) {
  if (std::find(servers_.begin(), servers_.end(), client) == servers_.end()) {
    servers_.push_back(client);
  }
}

std::vector<ServedInquiry> ServedInquiries::RemoveServer(const std::string& client) {
  servers_.erase(std::remove(servers_.begin(), servers_.end(), client), servers_.end());
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

std::optional<std::string> ServedInquiries::NextServer() {
  if (servers_.empty()) return std::nullopt;
  return servers_[next_server_++ % servers_.size()];
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
