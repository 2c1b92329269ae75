// DeskAuth: who may use the commission's desk (issue #17). An investigator logs in with a
// password and a second factor, a time-based one-time code (RFC 6238 TOTP over HMAC-SHA-256,
// 6 digits, 30-second steps, from an authenticator app or a hardware token enrolled with
// the account's secret); both must be right, and a code is accepted once. A name that
// fails kMaxFailures times in kLockoutUs is locked for the rest of that time, whatever it
// tries. A session is a random token in two halves (the page keeps one, an HttpOnly
// cookie the other), kept hashed, ending after kIdleUs unused or kSessionMaxUs in all.
//
// The accounts file (mode 0600; `ipn oversight desk-user` writes its lines), one a line:
//   name:$argon2id$…(crypto_pwhash_str):totp-secret-hex
// '#' comments and blank lines are ignored. Thread-safe.
//
// The steps file (KeepStepsIn; the desk keeps it in its --dir) holds, per investigator, the
// last TOTP step whose code was accepted ("name step" a line), written before the log-in
// it opens is answered: a code used once stays used across a restart of the desk.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/secret.h"
#include "common/status.h"

namespace ipn::oversight {

inline constexpr int kMaxFailures = 5;
inline constexpr int64_t kLockoutUs = 15 * 60'000'000LL;
inline constexpr int64_t kIdleUs = 30 * 60'000'000LL;
inline constexpr int64_t kSessionMaxUs = 12 * 3600'000'000LL;
inline constexpr int64_t kTotpStepUs = 30'000'000;
inline constexpr size_t kMaxSessions = 1'000;

struct Investigator {
  std::string name;           // [A-Za-z0-9._-], 1..64
  std::string password_hash;  // crypto_pwhash_str
  SecretBytes totp_secret;    // 20..64 bytes
};

// Parses an accounts file; InvalidArgument names the line.
Result<std::vector<Investigator>> ParseInvestigators(std::string_view text);

// An accounts file line for a new investigator (hashes the password: Argon2id, interactive
// limits). `totp_secret` from SecretBytes::Random(20).
Result<std::string> InvestigatorLine(std::string_view name, std::string_view password,
                                     std::span<const uint8_t> totp_secret);

// The 6-digit code for TOTP step `step` (unix seconds / 30).
std::string TotpCode(std::span<const uint8_t> secret, uint64_t step);

// "otpauth://totp/IPN%20desk:NAME?secret=BASE32&algorithm=SHA256&digits=6&period=30"
std::string TotpUri(std::string_view name, std::span<const uint8_t> secret);

struct DeskSession {
  std::string page_half, cookie_half;  // base64url, 16 random bytes each
  int64_t expires_us = 0;              // if unused until then
};

class DeskAuth {
 public:
  DeskAuth(std::vector<Investigator> accounts, const Clock* clock);

  // Loads the steps file at `path` if there is one (InvalidArgument names a malformed line;
  // names that are no account are dropped) and saves every accepted step there from now on.
  Status KeepStepsIn(const std::string& path);

  // PermissionDenied for a wrong name, password or code (one message for all, to the
  // caller); ResourceExhausted ("locked; retry in N s") while the name is locked;
  // Unavailable when the code's use cannot be saved (the code is spent all the same).
  // `refused_because`, when given, says which factor failed, for the commission's audit
  // only: a right password with a wrong code is the sign of a leaked password.
  Result<DeskSession> LogIn(std::string_view name, std::string_view password, std::string_view code,
                            std::string* refused_because = nullptr);
  // Who holds the session; PermissionDenied when unknown, ended or a half is wrong.
  Result<std::string> SessionOwner(std::string_view page_half, std::string_view cookie_half);
  void LogOut(std::string_view page_half, std::string_view cookie_half);
  // Seconds until `name` may try again (0: not locked).
  int64_t LockedForSeconds(std::string_view name);
  bool HasAccount(std::string_view name) const { return accounts_.contains(std::string(name)); }

 private:
  struct Account {
    std::string password_hash;
    SecretBytes totp_secret;
    uint64_t last_step = 0;  // the last step whose code was accepted: never again
  };
  struct Failures {
    int count = 0;
    int64_t first_us = 0;
  };
  struct Session {
    std::string name;
    int64_t opened_us = 0, last_used_us = 0;
  };
  bool CodeMatchesLocked(Account& account, std::string_view code, int64_t now);
  Status SaveStepsLocked();
  bool LockedLocked(const std::string& name, int64_t now);
  void FailLocked(const std::string& name, int64_t now);
  static std::string Digest(std::string_view page_half, std::string_view cookie_half);

  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, Account> accounts_;
  std::unordered_map<std::string, Failures> failures_;
  std::unordered_map<std::string, Session> sessions_;  // digest of both halves -> session
  std::string dummy_hash_;  // verified for unknown names, so they cost what known ones do
  std::string steps_path_;  // empty: steps are kept in memory only
};

}  // namespace ipn::oversight
