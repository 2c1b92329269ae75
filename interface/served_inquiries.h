// ServedInquiries: the provider side of a node — the inquiries the core forwarded to this
// node's agency and that its systems have not answered yet, by the core's exchange id;
// the rotation over the agency's serving clients; and expiry at the exchange's deadline,
// so an inquiry the agency never answers does not stay forever. No socket: the node
// feeds it what arrives and carries out what it returns
// (tests/interface/served_inquiries_test.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::interface {

// What one serving client may name in its Hello (Hello.items): at most this many items,
// each of 1 to kMaxServedItemBytes bytes. A Hello past either is refused.
inline constexpr size_t kMaxServedItems = 256;
inline constexpr size_t kMaxServedItemBytes = 64;

// One forwarded inquiry being served.
struct ServedInquiry {
  std::string exchange_id;
  std::string inquirer;
  std::string item;            // the item asked: it chooses the serving client
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

  // A local system that serves forwarded inquiries joined, answering `items` (empty: every
  // item no connected serving client names). Again: its items are replaced, its turn in
  // the rotation kept. InvalidArgument, and nothing changes, past kMaxServedItems items or
  // for an item empty or longer than kMaxServedItemBytes.
  Status AddServer(const std::string& client, const std::vector<std::string>& items = {});
  // It is gone (a send to it failed): it leaves the rotation. The inquiries it held
  // are returned, so that the node can end them (they were never answered).
  std::vector<ServedInquiry> RemoveServer(const std::string& client);
  size_t servers() const { return servers_.size(); }

  // The serving client for an inquiry about `item`: one of the clients that named it, else
  // one of those that named no item; whichever of them was handed an inquiry least
  // recently (in turn, in the order they joined). nullopt when there is none.
  std::optional<std::string> NextServer(std::string_view item);
  // Whether NextServer(item) would name a client.
  bool HasServer(std::string_view item) const;

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
  struct Server {
    std::string client;
    std::set<std::string, std::less<>> items;  // empty: every item no server names
    uint64_t last_turn = 0;                    // when it was last chosen (0: never)
  };
  // The index in servers_ of the client for `item` (the rule of NextServer), or
  // servers_.size() when there is none.
  size_t Choose(std::string_view item) const;

  std::vector<Server> servers_;  // in the order they joined
  uint64_t turns_ = 0;
  std::map<std::string, ServedInquiry> served_;  // by exchange id
};

}  // namespace ipn::interface
