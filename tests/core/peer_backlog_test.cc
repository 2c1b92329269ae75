// PeerBacklog: a slow node's messages wait in order and are retried; a full backlog drops
// its oldest; a gone node's messages are dropped and the node reported.
#include "core/peer_backlog.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ipn::core {
namespace {

v1::Envelope Msg(const std::string& id) {
  v1::Envelope e;
  e.set_request_id(id);
  return e;
}

// A router whose per-node queues take `room[node]` messages; unknown nodes are gone.
struct FakeRouter {
  std::map<std::string, int> room;
  std::map<std::string, std::vector<std::string>> got;
  PeerBacklog::SendFn fn() {
    return [this](std::string_view to, const v1::Envelope& e) {
      auto it = room.find(std::string(to));
      if (it == room.end()) return Status::Unavailable("peer not connected");
      if (it->second == 0) return Status::ResourceExhausted("peer queue full");
      --it->second;
      got[std::string(to)].push_back(e.request_id());
      return Status::Ok();
    };
  }
};

TEST(PeerBacklogTest, ASlowNodesMessagesWaitInOrderAndLeaveWhenItReads) {
  FakeRouter router;
  router.room = {{"slow", 1}, {"fast", 100}};
  PeerBacklog backlog(10);
  for (const char* id : {"a", "b", "c"})
    EXPECT_TRUE(backlog.Send("slow", Msg(id), router.fn()).ok());
  EXPECT_TRUE(backlog.Send("fast", Msg("f"), router.fn()).ok());
  EXPECT_EQ(router.got["slow"], std::vector<std::string>{"a"});
  EXPECT_EQ(router.got["fast"], std::vector<std::string>{"f"}) << "another node is not held up";
  EXPECT_EQ(backlog.held(), 2u);
  EXPECT_TRUE(backlog.Holds("slow"));
  // A message for a backlogged node queues behind the others even if there is room now.
  router.room["slow"] = 1;
  EXPECT_TRUE(backlog.Send("slow", Msg("d"), router.fn()).ok());
  EXPECT_EQ(router.got["slow"], std::vector<std::string>{"a"});
  EXPECT_TRUE(backlog.Retry(router.fn()).empty());
  EXPECT_EQ(router.got["slow"], (std::vector<std::string>{"a", "b"}));
  router.room["slow"] = 10;
  EXPECT_TRUE(backlog.Retry(router.fn()).empty());
  EXPECT_EQ(router.got["slow"], (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(backlog.held(), 0u);
  EXPECT_FALSE(backlog.Holds("slow"));
  EXPECT_EQ(backlog.dropped(), 0u);
}

TEST(PeerBacklogTest, PastItsLimitTheOldestWaitingMessageIsDroppedAndCounted) {
  FakeRouter router;
  router.room = {{"slow", 0}};
  PeerBacklog backlog(3);
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    EXPECT_TRUE(backlog.Send("slow", Msg(id), router.fn()).ok());
  }
  EXPECT_EQ(backlog.held(), 3u);
  EXPECT_EQ(backlog.dropped(), 2u);
  router.room["slow"] = 10;
  EXPECT_TRUE(backlog.Retry(router.fn()).empty());
  EXPECT_EQ(router.got["slow"], (std::vector<std::string>{"c", "d", "e"}));
}

TEST(PeerBacklogTest, AGoneNodeIsReportedAndItsMessagesDropped) {
  FakeRouter router;
  router.room = {{"n", 0}};
  PeerBacklog backlog(10);
  EXPECT_TRUE(backlog.Send("n", Msg("a"), router.fn()).ok());
  EXPECT_TRUE(backlog.Send("n", Msg("b"), router.fn()).ok());
  router.room.erase("n");  // its connection closed
  EXPECT_EQ(backlog.Retry(router.fn()), std::vector<std::string>{"n"});
  EXPECT_EQ(backlog.held(), 0u);
  EXPECT_EQ(backlog.dropped(), 2u);
  EXPECT_FALSE(backlog.Holds("n"));
  // A direct send to a gone node says so.
  EXPECT_EQ(backlog.Send("n", Msg("c"), router.fn()).code(), Status::Code::kUnavailable);
}

}  // namespace
}  // namespace ipn::core
