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

Status ExchangeLog::Append(const std::string& tenant, ExchangeEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);  // numbers in order, no gap, one writer at a time
  auto last = last_seq_.find(tenant);
  if (last == last_seq_.end()) {
    auto stored = store_->LastOrdered(kKind, tenant, "");
    if (!stored.ok()) return stored.status();
    const uint64_t seq =
        stored->has_value() && (*stored)->size() == 8 ? GetBigEndian64((*stored)->data()) : 0;
    last = last_seq_.emplace(tenant, seq).first;
  }
  entry.seq = last->second + 1;
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
  IPN_RETURN_IF_ERROR(store_->PutOrdered(
      kKind, tenant,
      {{SeqKey(entry.seq), row.dump(-1, ' ', false, Json::error_handler_t::replace)}},
      /*sync=*/false));
  last->second = entry.seq;
  return Status::Ok();
}

Result<std::vector<ExchangeEntry>> ExchangeLog::List(const std::string& tenant, uint64_t after_seq,
                                                     size_t limit) const {
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
