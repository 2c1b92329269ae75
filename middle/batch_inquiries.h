// BatchInquiries: batch inquiry files (一括照会), for an existing system that asks about
// many persons at once — a night's run, say. An inquirer account submits a CSV file
// (header person,provider,business,item); every row is checked before anything is kept (a
// bad row is "line N: …" and nothing of the file is stored), then the file is kept sealed
// in the tenant's store (MiddleStore's ordered rows) and its rows are sent one after
// another in the background by the platform's one batch worker, round robin over the
// tenants with open files (and over each one's files), so that one long file, or one
// tenant's many, does not hold back another's. Each
// row goes out exactly as a single inquiry does (InquirySender: audited, logged as an
// exchange) and its result is written beside it. The submitting account follows the
// progress and, once every row has its result, downloads the results file (CSV).
//
// A restarted platform resumes every unfinished file at its first row without a result:
// a row whose inquiry was out when the process died is asked again, under a new request
// id (the core's duplicate guard keys on request ids, so it is a second exchange, and the
// audit log shows both). A row's outcome is the answer's, or not_sent (refused here: no
// symbol for the person number, say) or no_result (it went out and no answer came back;
// its request id names it in the core's records). A row that could not go out for a
// passing reason (the tenant's inquiries queued full) waits and is tried again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/logger.h"
#include "common/status.h"
#include "middle/accounts.h"
#include "middle/inquiry_sender.h"
#include "middle/middle_store.h"

namespace ipn::middle {

// Named limits (docs/limits.md).
inline constexpr size_t kMaxBatchRows = 10'000;
inline constexpr size_t kMaxBatchBytes = size_t{4} << 20;
inline constexpr size_t kMaxOpenBatches = 4;  // per tenant: submitted and not finished
inline constexpr size_t kKeptBatches = 100;   // per tenant: older finished files are dropped
// A row that could not go out (the tenant's inquiries queued full, the audit log not
// writable) is tried again after this; the file keeps its place for the others.
inline constexpr std::chrono::seconds kRetryAfter{1};

struct BatchProgress {
  uint64_t id = 0;
  std::string account;
  int64_t submitted_unix_us = 0;
  size_t rows = 0;
  size_t done = 0;
  std::map<std::string, size_t> outcomes;  // outcome -> rows (error: see the row)
  bool finished() const { return done == rows; }
};

class BatchInquiries {
 public:
  BatchInquiries(MiddleStore* store, InquirySender* sender, const Clock* clock, Logger* log)
      : store_(store), sender_(sender), clock_(clock), log_(log) {}
  ~BatchInquiries();  // stops (Stop) and waits for the row in flight

  // Asks the worker to stop: the row in flight, if any, gets no result kept (a restart
  // asks it again). Returns at once.
  void Stop();

  // Loads every tenant's batches (the unfinished ones queued) and starts the worker.
  Status Start();

  // InvalidArgument "line N: …" for a bad row or header, or past the size limits;
  // PermissionDenied "line N: …" for a business not the account's; ResourceExhausted
  // with kMaxOpenBatches files running; Unavailable when not connected to the network.
  Result<BatchProgress> Submit(const Account& who, std::string_view csv);
  // NotFound for an unknown batch or another account's.
  Result<BatchProgress> Progress(const Account& who, uint64_t id) const;
  // The results file: person,provider,business,item,outcome,request_id,exchange_id,
  // explanation,content — in the file's order. FailedPrecondition while rows remain.
  Result<std::string> Results(const Account& who, uint64_t id) const;
  // The same refusals as Results, without reading the file.
  Status CheckResults(const Account& who, uint64_t id) const;
  // The results file, a page of rows at a time, to `out` (false: stop, the reader left).
  Status WriteResults(const Account& who, uint64_t id,
                      const std::function<bool(std::string_view)>& out) const;

 private:
  struct Open {  // a batch with rows to send
    BatchProgress progress;
    Account who;      // as submitted: its businesses were checked against every row then
    size_t next = 0;  // the first row without a result
    std::chrono::steady_clock::time_point retry_at{};  // nothing went out: not before then
  };
  // The file's next row, sent and its result kept.
  void SendOne(const std::pair<std::string, uint64_t>& key);
  // Takes the files in turn (round robin), skipping those waiting to try again.
  void Loop();
  // Puts a file at the back of its tenant's turn (and the tenant in the rotation). mu_ held.
  void Queue(const std::pair<std::string, uint64_t>& key);
  // The next file whose turn it is and which is not waiting to try again, taken out of
  // the turn; nullopt when none is ready. mu_ held.
  std::optional<std::pair<std::string, uint64_t>> TakeReady(
      std::chrono::steady_clock::time_point now);
  // A stored file at start: queued unless finished; logged and skipped if unreadable.
  void Resume(const std::string& tenant, const std::string& key, const std::string& value);
  Result<BatchProgress> Load(const std::string& tenant, uint64_t id) const;

  MiddleStore* store_;
  InquirySender* sender_;
  const Clock* clock_;
  Logger* log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<std::string, uint64_t>, Open> open_;  // (tenant, id)
  // Whose turn: the tenants with files waiting, round robin (front is next), and each
  // one's files in turn — so a tenant's share does not grow with its number of files.
  std::deque<std::string> tenant_turn_;
  std::map<std::string, std::deque<uint64_t>> file_turn_;
  size_t waiting_ = 0;  // files in file_turn_
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace ipn::middle
