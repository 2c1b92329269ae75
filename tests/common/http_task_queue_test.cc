// BoundedTaskQueue (common/http_task_queue.h): the connections waiting for an HTTP worker
// are bounded; past the limit the accepting thread serves the next one itself, and no
// connection's job is ever dropped (it alone closes the socket).
#include "common/http_task_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace ipn {
namespace {

TEST(BoundedTaskQueueTest, PastTheLimitTheCallerServesAndNothingIsDropped) {
  BoundedTaskQueue queue(/*workers=*/1, /*max_waiting=*/2);
  std::promise<void> started, release;
  std::shared_future<void> released = release.get_future().share();
  std::mutex mu;
  std::vector<std::pair<char, std::thread::id>> ran;
  auto job = [&](char name) {
    return [&, name] {
      std::lock_guard lock(mu);
      ran.emplace_back(name, std::this_thread::get_id());
    };
  };
  // A holds the only worker until released.
  queue.enqueue([&] {
    started.set_value();
    released.wait();
    std::lock_guard lock(mu);
    ran.emplace_back('A', std::this_thread::get_id());
  });
  ASSERT_EQ(started.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  queue.enqueue(job('B'));  // waiting: 1
  queue.enqueue(job('C'));  // waiting: 2, the limit
  queue.enqueue(job('D'));  // over it: served here, before enqueue returns
  {
    // Only D has run: B and C wait for the worker A holds, D ran on this thread.
    std::lock_guard lock(mu);
    ASSERT_EQ(ran.size(), 1u);
    EXPECT_EQ(ran[0].first, 'D');
    EXPECT_EQ(ran[0].second, std::this_thread::get_id());
  }
  release.set_value();
  queue.shutdown();  // runs what waits, then stops
  std::lock_guard lock(mu);
  ASSERT_EQ(ran.size(), 4u);
  std::set<char> names;
  for (const auto& [name, thread] : ran) {
    names.insert(name);
    if (name != 'D') {
      EXPECT_NE(thread, std::this_thread::get_id()) << name;
    }
  }
  EXPECT_EQ(names, (std::set<char>{'A', 'B', 'C', 'D'}));
}

TEST(BoundedTaskQueueTest, ShutdownTwiceIsHarmless) {
  BoundedTaskQueue queue(2, 4);
  int ran = 0;
  std::mutex mu;
  for (int i = 0; i < 4; ++i) {
    queue.enqueue([&] {
      std::lock_guard lock(mu);
      ++ran;
    });
  }
  queue.shutdown();
  queue.shutdown();
  EXPECT_EQ(ran, 4);
}

}  // namespace
}  // namespace ipn
