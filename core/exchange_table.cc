// ExchangeTable: open exchanges, deadlines and the duplicate guard.
#include "core/exchange_table.h"

namespace ipn::core {

std::string ExchangeTable::Key(std::string_view inquirer, std::string_view request_id) {
  std::string key(inquirer);
  key.push_back('\0');
  key.append(request_id);
  return key;
}

bool ExchangeTable::Seen(const std::string& key) const {
  return open_.count(key) != 0 || closed_.count(key) != 0;
}

Exchange& ExchangeTable::Open(const std::string& key, Exchange exchange) {
  deadlines_.emplace(exchange.deadline_us, key);
  auto [it, inserted] = open_.emplace(key, std::move(exchange));
  (void)inserted;
  return it->second;
}

void ExchangeTable::RememberRefused(const std::string& key, int64_t now_us) {
  if (closed_.emplace(key, now_us).second) closed_order_.emplace(now_us, key);
}

Exchange* ExchangeTable::Find(const std::string& key) {
  auto it = open_.find(key);
  return it == open_.end() ? nullptr : &it->second;
}

void ExchangeTable::Close(const std::string& key, int64_t now_us) {
  open_.erase(key);
  RememberRefused(key, now_us);
}

std::vector<std::string> ExchangeTable::Expired(int64_t now_us) const {
  std::vector<std::string> out;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now_us; ++it) {
    auto open = open_.find(it->second);
    if (open != open_.end() && !open->second.outcome_recorded &&
        open->second.deadline_us == it->first) {
      out.push_back(it->second);
    }
  }
  return out;
}

std::optional<int64_t> ExchangeTable::NextDeadline() const {
  // Skip stale entries lazily (const: only look).
  for (const auto& [deadline, key] : deadlines_) {
    auto open = open_.find(key);
    if (open != open_.end() && !open->second.outcome_recorded) return deadline;
  }
  return std::nullopt;
}

void ExchangeTable::Forget(int64_t now_us) {
  // Drop deadline entries that no longer matter.
  while (!deadlines_.empty()) {
    auto it = deadlines_.begin();
    auto open = open_.find(it->second);
    if (open != open_.end() && !open->second.outcome_recorded) break;
    deadlines_.erase(it);
  }
  while (!closed_order_.empty() && closed_order_.begin()->first + remember_us_ < now_us) {
    closed_.erase(closed_order_.begin()->second);
    closed_order_.erase(closed_order_.begin());
  }
}

}  // namespace ipn::core
