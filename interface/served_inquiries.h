// ServedInquiries: the provider side of a node — the inquiries the core forwarded to this
// node's agency and that its systems have not answered yet, by the core's exchange id;
// the rotation over the agency's serving clients; and expiry at the exchange's deadline,
// so an inquiry the agency never answers does not stay forever. No socket: the node
// feeds it what arrives and carries out what it returns
// (tests/interface/served_inquiries_test.cc).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::interface {

// One forwarded inquiry being served.
struct ServedInquiry {
  std::string exchange_id;
  std::string inquirer;
  v1::PeerNode inquirer_node;  // where and to whom the answer is sealed
  int64_t deadline_us = 0;
  std::string server;  // the serving client it was handed to
};

class ServedInquiries {
 public:
  // An inquiry is dropped `grace_us` after its deadline: by then the core has timed the
  // exchange out and recorded it, so a late answer could only be ignored there.
  explicit ServedInquiries(size_t max_served = 200'000, int64_t grace_us = 1'000'000)
      : max_served_(max_served), grace_us_(grace_us) {}

  // A local system that serves forwarded inquiries joined (once; again is a no-op).
  void AddServer(const std::string& client);
  // It is gone (a send to it failed): it leaves the rotation. The inquiries it held
  // are returned, so that the node can end them (they were never answered).
  std::vector<ServedInquiry> RemoveServer(const std::string& client);
  size_t servers() const { return servers_.size(); }

  // The next serving client in rotation; nullopt when none is connected.
  std::optional<std::string> NextServer();

  // Whether Add would take `exchange_id`: AlreadyExists for an exchange id already
  // served; ResourceExhausted past the limit.
  Status CanAdd(const std::string& exchange_id) const;
  // Starts serving `x` (its `server` set); the errors of CanAdd.
  Status Add(ServedInquiry x);
  // The agency's answer from `client` for `exchange_id`: the inquiry, which stops being
  // served. NotFound when no such exchange is served; PermissionDenied when it was handed
  // to another client.
  Result<ServedInquiry> Take(const std::string& exchange_id, const std::string& client);
  // Inquiries past their deadline and the grace, which stop being served.
  std::vector<ServedInquiry> Expire(int64_t now_us);

  size_t size() const { return served_.size(); }

 private:
  size_t max_served_;
  int64_t grace_us_;
  std::deque<std::string> servers_;
  size_t next_server_ = 0;
  std::map<std::string, ServedInquiry> served_;  // by exchange id
};

}  // namespace ipn::interface
