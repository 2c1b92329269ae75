// ExchangeLog: each tenant's own log of the exchanges it took part in at the middle
// server — inquiries its staff and systems sent (through the API, one by one or in a batch
// file) and forwarded inquiries the platform answered from its copies — with outcome,
// request id and the core's exchange id, never content. The core's provision records know
// the same exchanges by agency and record symbol; this log adds the tenant's side: its
// internal person number and who asked. Sealed under the tenant's key (MiddleStore's
// ordered rows), in order; read through the API (GET /v1/exchanges).
//
// One instance per platform process (its sequence numbers are allotted here), shared by
// the API and the platform. Append numbers the entry and hands it to a writer thread, so
// that an automatic answer does not wait for the store: the writer puts what is pending in
// one write per tenant, then syncs the store's write-ahead log (group commit, a round per
// kExchangeSyncUs at most). At most kMaxPendingExchanges wait: past that, Append writes
// itself (slower, nothing dropped). A killed platform loses the entries not yet written — a few
// milliseconds' — which the core's provision records still hold.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/logger.h"
#include "common/status.h"
#include "middle/middle_store.h"

namespace ipn::middle {

struct ExchangeEntry {
  uint64_t seq = 0;        // set by Append
  int64_t at_unix_us = 0;  // set by Append
  std::string role;        // "inquirer" or "provider"
  std::string account;     // inquirer: the account that asked
  std::string person;      // the internal person number (empty when the map had none)
  std::string peer;        // inquirer: the provider asked; provider: the agency that asked
  std::string business;
  std::string item;
  std::string outcome;  // provided, not_held, refused, unreachable, timed_out, failed
  std::string request_id;
  std::string exchange_id;
  std::string batch;  // the batch file's id, when the inquiry came from one
};

inline constexpr size_t kMaxPendingExchanges = 10'000;
inline constexpr int64_t kExchangeSyncUs = 20'000;  // at most one write-and-sync round per this

class ExchangeLog {
 public:
  ExchangeLog(MiddleStore* store, const Clock* clock, Logger* log = nullptr);
  ~ExchangeLog();  // writes what is pending

  Status Append(const std::string& tenant, ExchangeEntry entry);
  // Entries after `after_seq`, at most `limit`, in order (pending ones written first).
  Result<std::vector<ExchangeEntry>> List(const std::string& tenant, uint64_t after_seq,
                                          size_t limit);

 private:
  // Writes every pending entry; called by the writer, List and a full Append.
  Status Flush();
  void WriterLoop();

  MiddleStore* store_;
  const Clock* clock_;
  Logger* log_;
  std::mutex mu_;
  std::map<std::string, uint64_t> last_seq_;  // tenant -> its last entry's number
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> pending_;
  std::mutex flush_mu_;  // one Flush at a time, so that entries are written in order
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace ipn::middle
