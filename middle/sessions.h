// Sessions: who is logged in to the middle server's API, by bearer token. A token is 32
// random bytes (hex); the table keeps only its BLAKE2b hash, so a memory dump does not
// hand out live sessions and a lookup's timing says nothing of a token. A session ends
// after `idle_us` without use, after `max_age_us` in all, or when closed; at most
// `max_sessions` live at once (the oldest goes). In memory only: a restart logs everyone
// out, which is the safe side. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "middle/accounts.h"

namespace ipn::middle {

struct SessionsOptions {
  int64_t idle_us = 15LL * 60 * 1'000'000;
  int64_t max_age_us = 8LL * 3600 * 1'000'000;
  size_t max_sessions = 10'000;  // docs/limits.md
};

class Sessions {
 public:
  explicit Sessions(const Clock* clock, SessionsOptions options = {})
      : clock_(clock), options_(options) {}

  // A new session for `account`: its token.
  std::string Open(const Account& account);
  // The account of a live session (and it is used now); nullopt if unknown or ended.
  std::optional<Account> Find(const std::string& token);
  void Close(const std::string& token);
  size_t size() const;

 private:
  struct Session {
    Account account;
    int64_t opened_us = 0;
    int64_t used_us = 0;
  };
  static std::string Hash(const std::string& token);
  const Clock* clock_;
  SessionsOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Session> by_hash_;
};

}  // namespace ipn::middle
