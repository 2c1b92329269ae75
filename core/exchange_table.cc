// ExchangeTable: open exchanges, deadlines and the duplicate guard.
#include "core/exchange_table.h"

#include <cassert>

namespace ipn::core {

std::string ExchangeTable::Key(std::string_view inquirer, std::string_view request_id) {
  std::string key(inquirer);
  key.push_back('\0');  // no agency code holds NUL: ("AB","1") and ("A","B1") stay apart
  key.append(request_id);
  return key;
}

bool ExchangeTable::Seen(const std::string& key) const {
  return open_keys_.count(key) != 0 || used_.count(key) != 0;
}

Exchange& ExchangeTable::Open(Exchange exchange) {
  const std::string id = exchange.id();
  open_keys_.emplace(Key(exchange.facts().inquirer, exchange.facts().request_id), id);
  deadlines_.emplace(exchange.deadline_us(), id);
  // Entered now too: an exchange's due time only moves from deadline to receipt deadline.
  if (exchange.receipt_deadline_us() != exchange.deadline_us()) {
    deadlines_.emplace(exchange.receipt_deadline_us(), id);
  }
  auto [it, inserted] = open_.emplace(id, std::move(exchange));
  // Exchange ids are 128 random bits: a collision would be a broken random source.
  assert(inserted && "exchange id collision");
  (void)inserted;
  return it->second;
}

void ExchangeTable::RememberUsed(const std::string& key, int64_t now_us) {
  // A refreshed key leaves its older entry in used_order_; Forget skips it (lazy deletion).
  used_[key] = now_us;
  used_order_.emplace(now_us, key);
}

Exchange* ExchangeTable::Find(std::string_view exchange_id) {
  auto it = open_.find(exchange_id);
  return it == open_.end() ? nullptr : &it->second;
}

Exchange* ExchangeTable::FindByKey(const std::string& key) {
  auto it = open_keys_.find(key);
  return it == open_keys_.end() ? nullptr : Find(it->second);
}

void ExchangeTable::Close(std::string_view exchange_id, int64_t now_us) {
  auto it = open_.find(exchange_id);  // `exchange_id` may view the id erased below
  if (it == open_.end()) return;
  // While open, the request id is a duplicate through open_keys_; once closed, for the
  // remembrance window from its close.
  const std::string key = Key(it->second.facts().inquirer, it->second.facts().request_id);
  open_.erase(it);
  open_keys_.erase(key);
  RememberUsed(key, now_us);
}

// True if the entry (due, id) is live: the exchange is open, not closed by both events,
// and due at exactly that time (entries for a due time it moved past are stale).
bool ExchangeTable::Pending(const std::string& id, int64_t due) const {
  auto open = open_.find(id);
  return open != open_.end() && !open->second.closed() && open->second.due_us() == due;
}

std::vector<std::string> ExchangeTable::Expired(int64_t now_us) const {
  std::vector<std::string> out;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now_us; ++it) {
    if (Pending(it->second, it->first)) out.push_back(it->second);
  }
  return out;
}

std::optional<int64_t> ExchangeTable::NextDeadline() const {
  for (const auto& [deadline, id] : deadlines_) {  // stale entries are skipped, not erased
    if (Pending(id, deadline)) return deadline;
  }
  return std::nullopt;
}

void ExchangeTable::Forget(int64_t now_us) {
  while (!deadlines_.empty() && !Pending(deadlines_.begin()->second, deadlines_.begin()->first)) {
    deadlines_.erase(deadlines_.begin());
  }
  while (!used_order_.empty() && used_order_.begin()->first + remember_us_ < now_us) {
    auto used = used_.find(used_order_.begin()->second);
    if (used != used_.end() && used->second == used_order_.begin()->first) used_.erase(used);
    used_order_.erase(used_order_.begin());
  }
}

}  // namespace ipn::core
