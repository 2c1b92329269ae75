// BoundedTaskQueue: cpp-httplib's worker pool with a named limit on the connections that
// wait for a worker (limits::kMaxHttpConnectionsWaiting). Used by the portal, the desk and
// the middle server.
//
// Why: httplib's own ThreadPool queues every accepted connection, without bound, until a
// worker takes it; a client that opens connections faster than the workers finish them
// grows that queue (each entry holding an open socket) for as long as it likes. Here, once
// `max_waiting` connections wait, the next one is served on the accepting thread itself:
// the server accepts nothing until it is done, and further clients wait in the kernel's
// listen backlog, which the kernel bounds. A queued job owns its socket and is the only
// thing that closes it, so no job is ever dropped.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ipn {

class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t workers, size_t max_waiting) : max_waiting_(max_waiting) {
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { Work(); });
  }
  BoundedTaskQueue(const BoundedTaskQueue&) = delete;
  BoundedTaskQueue& operator=(const BoundedTaskQueue&) = delete;
  ~BoundedTaskQueue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard lock(mu_);
      if (jobs_.size() < max_waiting_) {
        jobs_.push_back(std::move(fn));
        cv_.notify_one();
        return;
      }
    }
    fn();  // at the limit: served on the accepting thread, which accepts nothing meanwhile
  }

  // Runs what is queued, then stops the workers (httplib calls it when the server stops).
  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and nothing is left to close
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      fn();
    }
  }

  const size_t max_waiting_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once everything above exists
};

}  // namespace ipn
