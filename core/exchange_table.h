// ExchangeTable: the exchanges the core has accepted and not yet closed, by exchange id
// and by (inquirer, request id), with their deadlines; and the request ids used recently
// (open, closed or refused), so a repeated one is recognised as a duplicate for
// `remember_us` after its last use.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/exchange.h"

namespace ipn::core {

class ExchangeTable {
 public:
  explicit ExchangeTable(int64_t remember_us) : remember_us_(remember_us) {}

  // The duplicate guard's key: a request id is unique per inquirer.
  static std::string Key(std::string_view inquirer, std::string_view request_id);

  // True if (inquirer, request id) is open or was used recently.
  bool Seen(const std::string& key) const;
  // Adds an accepted exchange; its key must not be Seen, its id must be new.
  Exchange& Open(Exchange exchange);
  // Marks a request id as used by an inquiry that opened nothing (refused, unreachable).
  void RememberUsed(const std::string& key, int64_t now_us);
  Exchange* Find(std::string_view exchange_id);
  // The open exchange `key` opened, if it is still open.
  Exchange* FindByKey(const std::string& key);
  // Closes an exchange: it leaves the open set; its request id stays a duplicate.
  void Close(std::string_view exchange_id, int64_t now_us);

  // Ids of open exchanges that are due (Exchange::due_us) at or before `now_us`: those
  // without an outcome past their deadline, and those with an outcome and no receipt past
  // their receipt deadline.
  std::vector<std::string> Expired(int64_t now_us) const;
  // The earliest time an open exchange is due, if any.
  std::optional<int64_t> NextDeadline() const;
  // Forgets request ids older than the remembrance window and stale deadline entries.
  void Forget(int64_t now_us);

  size_t open_count() const { return open_.size(); }

 private:
  bool Pending(const std::string& id, int64_t due) const;

  int64_t remember_us_;
  // Looked up by a view of the id an outcome or receipt names: no string built per lookup.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Exchange, IdHash, std::equal_to<>> open_;  // by exchange id
  std::unordered_map<std::string, std::string> open_keys_;                   // key -> exchange id
  std::multimap<int64_t, std::string> deadlines_;   // due time -> id (lazy deletion)
  std::unordered_map<std::string, int64_t> used_;   // key -> last used at
  std::multimap<int64_t, std::string> used_order_;  // used at -> key
};

}  // namespace ipn::core
