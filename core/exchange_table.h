// ExchangeTable: the inquiries the core has accepted and not yet closed, by
// (inquirer, request id), with their deadlines; and the recently closed ones, so a
// repeated request id is recognised as a duplicate for `remember_us` after it closed.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ipn::core {

struct Exchange {
  std::string inquirer;
  std::string provider;
  std::string business;
  std::string item;
  std::string request_id;
  std::array<uint8_t, 32> record_symbol{};
  int64_t accepted_us = 0;
  int64_t deadline_us = 0;
  bool outcome_recorded = false;   // provided / not held / failed / timed out
  bool receipt_recorded = false;
  bool non_disclosure = false;
};

class ExchangeTable {
 public:
  explicit ExchangeTable(int64_t remember_us) : remember_us_(remember_us) {}

  static std::string Key(std::string_view inquirer, std::string_view request_id);

  // True if (inquirer, request id) is open or closed recently.
  bool Seen(const std::string& key) const;
  // Adds an accepted exchange; it must not be Seen.
  Exchange& Open(const std::string& key, Exchange exchange);
  // Marks a request id as used by a refused inquiry (nothing is open).
  void RememberRefused(const std::string& key, int64_t now_us);
  Exchange* Find(const std::string& key);
  // Closes an exchange: it leaves the open set and is remembered as a duplicate guard.
  void Close(const std::string& key, int64_t now_us);

  // Open exchanges whose provider deadline has passed (and no outcome yet).
  std::vector<std::string> Expired(int64_t now_us) const;
  // The earliest deadline among open exchanges without an outcome, if any.
  std::optional<int64_t> NextDeadline() const;
  // Forgets closed request ids older than the remembrance window.
  void Forget(int64_t now_us);

  size_t open_count() const { return open_.size(); }

 private:
  int64_t remember_us_;
  std::unordered_map<std::string, Exchange> open_;
  std::multimap<int64_t, std::string> deadlines_;      // deadline -> key (lazy deletion)
  std::unordered_map<std::string, int64_t> closed_;    // key -> closed at
  std::multimap<int64_t, std::string> closed_order_;   // closed at -> key
};

}  // namespace ipn::core
