// ExchangeLog: each tenant's own log of the exchanges it took part in at the middle
// server — inquiries its staff and systems sent (through the API, one by one or in a batch
// file) and forwarded inquiries the platform answered from its copies — with outcome,
// request id and the core's exchange id, never content. The core's provision records know
// the same exchanges by agency and record symbol; this log adds the tenant's side: its
// internal person number and who asked. Sealed under the tenant's key (MiddleStore's
// ordered rows), in order; read through the API (GET /v1/exchanges).
//
// One instance per platform process (its sequence numbers are allotted here), shared by
// the API and the platform. An entry is in the store's write-ahead log when Append
// returns (a killed process keeps it); it reaches the disk with the store's next sync.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
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

class ExchangeLog {
 public:
  ExchangeLog(MiddleStore* store, const Clock* clock) : store_(store), clock_(clock) {}

  Status Append(const std::string& tenant, ExchangeEntry entry);
  // Entries after `after_seq`, at most `limit`, in order.
  Result<std::vector<ExchangeEntry>> List(const std::string& tenant, uint64_t after_seq,
                                          size_t limit) const;

 private:
  MiddleStore* store_;
  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, uint64_t> last_seq_;  // tenant -> its last entry's number
};

}  // namespace ipn::middle
