// ReadWorker: record reads on their own thread.
#include "core/read_worker.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

#include "common/limits.h"

namespace ipn::core {
namespace {
constexpr int kReadThreadNice = 10;
}  // namespace

ReadWorker::ReadWorker(records::RecordStore* store, const symbol::SymbolService* symbols,
                       const policy::PolicyStore* policy, const Clock* clock, Logger* log)
    : env_(clock), access_(store, symbols, policy, &env_, log) {}

ReadWorker::~ReadWorker() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void ReadWorker::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status ReadWorker::Start() {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status::IoError("eventfd failed");
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), "ipn-reads");  // for `top -H`
  return Status::Ok();
}

Status ReadWorker::Submit(std::string asker, v1::Envelope envelope) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return Status::Unavailable("the core is stopping");
    if (queue_.size() >= limits::kMaxQueuedReads) {
      return Status::ResourceExhausted("too many record reads are waiting; try again shortly");
    }
    queue_.emplace_back(std::move(asker), std::move(envelope));
  }
  cv_.notify_one();
  return Status::Ok();
}

size_t ReadWorker::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::vector<ReadWorker::Output> ReadWorker::Take() {
  uint64_t counter = 0;
  while (read(wake_fd_, &counter, sizeof(counter)) > 0) {
  }
  std::lock_guard lock(mu_);
  return std::exchange(done_, {});
}

void ReadWorker::Loop() {
  // Reads are background work: the inquiry loop comes first for the CPU (a thread's nice
  // value is its own on Linux). Failing to lower it changes only priorities.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kReadThreadNice);
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    auto [asker, envelope] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    switch (envelope.body_case()) {
      case v1::Envelope::kRecordQuery: access_.OnRecordQuery(asker, envelope); break;
      case v1::Envelope::kTreeHeadRequest: access_.OnTreeHeadRequest(asker, envelope); break;
      case v1::Envelope::kStatsQuery: access_.OnStatsQuery(asker, envelope); break;
      default: break;
    }
    Output out{std::exchange(env_.records, {}), std::exchange(env_.messages, {})};
    size_t bytes = 0;
    for (const auto& [to, e] : out.messages) bytes += e.ByteSizeLong();
    lock.lock();
    done_.push_back(std::move(out));
    const uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof(one));
    (void)n;  // a saturated counter only means the loop is already awake
    // Pacing: the next read starts once this one's bytes fit the rate (a stop ends it).
    const auto pause =
        std::chrono::duration<double>(static_cast<double>(bytes) / limits::kMaxReadBytesPerSecond);
    cv_.wait_for(lock, pause, [&] { return stop_; });
  }
}

}  // namespace ipn::core
