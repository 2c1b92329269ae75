// Accounts: the staff of each tenant (業務担当者, システム管理者) and the platform's own
// operators, each with roles, a password (Argon2id, libsodium's crypto_pwhash_str) and a
// TOTP second factor (middle/totp.h); stored sealed under the tenant's key (MiddleStore).
//
// Roles: `admin` manages the tenant's accounts and reads its audit log; `registrar`
// registers, supersedes and deletes copies; `inquirer` inquires, for the businesses its
// account lists only. The platform's operators live in the reserved tenant `_platform`
// with the role `operator`: they create tenants and each tenant's first admin, and hold
// no role in any tenant, so they read no tenant's data (seed 004: "システム運用者に対し
// て、団体業務データへのアクセス権を付与しない").
//
// A system account is one existing system's access to the API (a registrar feeding
// copies, an inquirer asking for a business system): no person, so no password or second
// factor, but an API key of 256 random bits, shown once and kept only as its BLAKE2b
// hash; it may not be an admin.
//
// Log-in needs name, password and a TOTP code never used before by that account; after
// `max_failures` failures in a row the account is locked for `lockout_us`. Every refusal
// says the same thing whatever was wrong, so that it tells an outsider nothing.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "middle/middle_store.h"

namespace ipn::middle {

inline constexpr std::string_view kPlatformTenant = "_platform";

struct Account {
  std::string tenant;
  std::string name;
  std::set<std::string> roles;       // admin, registrar, inquirer; operator (platform)
  std::set<std::string> businesses;  // an inquirer's businesses
  bool system = false;               // an existing system's API key, not a person
  bool Has(std::string_view role) const { return roles.count(std::string(role)) != 0; }
};

struct Enrolment {
  std::string totp_secret;  // base32, for an authenticator app
  std::string totp_uri;     // otpauth://…
};

struct AccountsOptions {
  uint32_t max_failures = 5;
  int64_t lockout_us = 15LL * 60 * 1'000'000;
  size_t min_password = 12;
};

class Accounts {
 public:
  Accounts(MiddleStore* store, const Clock* clock, AccountsOptions options = {})
      : store_(store), clock_(clock), options_(options) {}

  // A new account with a fresh TOTP secret. InvalidArgument for a bad name (1–64 of
  // A-Z a-z 0-9 - _ .), an unknown role, a role that does not fit the tenant, or a short
  // password; AlreadyExists; NotFound for an unknown tenant.
  Result<Enrolment> Create(const Account& account, std::string_view password);

  // A new system account; its API key ("TENANT:NAME:64 hex digits"). The same refusals.
  Result<std::string> CreateSystem(const Account& account);
  // The system account an API key names; PermissionDenied "wrong API key" otherwise.
  Result<Account> Authenticate(std::string_view api_key);

  // PermissionDenied "wrong account, password or code" for any mismatch (a replayed code
  // included), or "… locked …" while locked. `known` (optional) says whether the account
  // exists, for the caller's audit only: the refusal itself never says.
  Result<Account> LogIn(std::string_view tenant, std::string_view name, std::string_view password,
                        std::string_view code, bool* known = nullptr);

 private:
  MiddleStore* store_;
  const Clock* clock_;
  AccountsOptions options_;
  Status CheckNew(const Account& account);
  std::mutex mu_;  // a log-in's read-check-write of the account's counters
};

}  // namespace ipn::middle
