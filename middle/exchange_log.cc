// ExchangeLog: entries as JSON objects, sealed in the store's ordered rows by sequence.
#include "middle/exchange_log.h"

#include <nlohmann/json.hpp>

#include "common/big_endian.h"

namespace ipn::middle {
namespace {

using Json = nlohmann::json;
constexpr auto kKind = MiddleStore::Ordered::kExchange;

std::string SeqKey(uint64_t seq) {
  std::string key;
  AppendBigEndian64(seq, key);
  return key;
}

}  // namespace

ExchangeLog::ExchangeLog(MiddleStore* store, const Clock* clock, Logger* log)
    : store_(store), clock_(clock), log_(log) {
  writer_ = std::thread([this] { WriterLoop(); });
}

ExchangeLog::~ExchangeLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
  if (Flush().ok()) (void)store_->SyncAudit();
}

Status ExchangeLog::Append(const std::string& tenant, ExchangeEntry entry) {
  bool full = false, first = false;
  {
    std::lock_guard<std::mutex> lock(mu_);  // numbers in order, no gap
    auto last = last_seq_.find(tenant);
    if (last == last_seq_.end()) {
      auto stored = store_->LastOrdered(kKind, tenant, "");
      if (!stored.ok()) return stored.status();
      const uint64_t seq =
          stored->has_value() && (*stored)->size() == 8 ? GetBigEndian64((*stored)->data()) : 0;
      last = last_seq_.emplace(tenant, seq).first;
    }
    entry.seq = ++last->second;
    entry.at_unix_us = clock_->NowMicros();
    const Json row = {{"at", entry.at_unix_us},
                      {"role", entry.role},
                      {"account", entry.account},
                      {"person", entry.person},
                      {"peer", entry.peer},
                      {"business", entry.business},
                      {"item", entry.item},
                      {"outcome", entry.outcome},
                      {"request_id", entry.request_id},
                      {"exchange_id", entry.exchange_id},
                      {"batch", entry.batch}};
    first = pending_.empty();  // the writer may be waiting for it (else it comes round)
    pending_.emplace_back(
        tenant,
        std::pair{SeqKey(entry.seq), row.dump(-1, ' ', false, Json::error_handler_t::replace)});
    full = pending_.size() >= kMaxPendingExchanges;
  }
  if (full) return Flush();  // the writer is behind: this caller writes, nothing is dropped
  if (first) wake_.notify_one();
  return Status::Ok();
}

Status ExchangeLog::Flush() {
  std::lock_guard<std::mutex> order(flush_mu_);
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> taken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taken.swap(pending_);
  }
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_tenant;
  for (auto& [tenant, row] : taken) by_tenant[tenant].push_back(std::move(row));
  Status result = Status::Ok();
  for (const auto& [tenant, rows] : by_tenant) {
    Status s = store_->PutOrdered(kKind, tenant, rows, /*sync=*/false);
    if (!s.ok() && log_ != nullptr) {
      log_->Error("middle_exchange_log_failed", {{"tenant", tenant}, {"reason", s.message()}});
    }
    if (!s.ok()) result = s;
  }
  return result;
}

void ExchangeLog::WriterLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (stop_) return;
    }
    // Written, then on disk: the store's write-ahead log synced (with whatever else is in
    // it), off every answer's path; what arrives meanwhile goes in the next round, at
    // most one round per kExchangeSyncUs, so that the platform's fsyncs do not queue
    // before the core's on a shared disk at every inquiry.
    if (Flush().ok()) (void)store_->SyncAudit();
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, std::chrono::microseconds(kExchangeSyncUs), [&] { return stop_; });
  }
}

Result<std::vector<ExchangeEntry>> ExchangeLog::List(const std::string& tenant, uint64_t after_seq,
                                                     size_t limit) {
  IPN_RETURN_IF_ERROR(Flush());
  auto rows =
      store_->ListOrdered(kKind, tenant, "", after_seq == 0 ? "" : SeqKey(after_seq), limit);
  if (!rows.ok()) return rows.status();
  std::vector<ExchangeEntry> out;
  for (const auto& [key, value] : *rows) {
    Json row = Json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (key.size() != 8 || !row.is_object()) return Status::Corruption("an exchange log entry");
    ExchangeEntry e;
    e.seq = GetBigEndian64(key.data());
    e.at_unix_us = row.value("at", int64_t{0});
    e.role = row.value("role", "");
    e.account = row.value("account", "");
    e.person = row.value("person", "");
    e.peer = row.value("peer", "");
    e.business = row.value("business", "");
    e.item = row.value("item", "");
    e.outcome = row.value("outcome", "");
    e.request_id = row.value("request_id", "");
    e.exchange_id = row.value("exchange_id", "");
    e.batch = row.value("batch", "");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace ipn::middle
