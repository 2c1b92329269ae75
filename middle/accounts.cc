// Accounts: staff and operators, their passwords and second factors (see accounts.h).
#include "middle/accounts.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/secret.h"
#include "middle/totp.h"

namespace ipn::middle {
namespace {

const std::set<std::string> kTenantRoles = {"admin", "registrar", "inquirer"};

Status CheckName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("an account name is 1 to 64 characters");
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return Status::InvalidArgument("an account name is A-Z a-z 0-9 - _ . only");
    }
  }
  return Status::Ok();
}

Status Refused() {
  return Status::PermissionDenied("wrong account, password or code");
}

}  // namespace

Result<Enrolment> Accounts::Create(const Account& account, std::string_view password) {
  IPN_RETURN_IF_ERROR(CheckName(account.name));
  const bool platform = account.tenant == kPlatformTenant;
  if (account.roles.empty()) return Status::InvalidArgument("an account needs a role");
  for (const std::string& role : account.roles) {
    if (platform ? role != "operator" : kTenantRoles.count(role) == 0) {
      return Status::InvalidArgument("role " + role +
                                     (platform
                                          ? ": the platform's accounts are operators only"
                                          : ": a tenant's roles are admin, registrar, inquirer"));
    }
  }
  if (account.Has("inquirer") && account.businesses.empty()) {
    return Status::InvalidArgument("an inquirer's account names its businesses");
  }
  if (password.size() < options_.min_password) {
    return Status::InvalidArgument("a password is at least " +
                                   std::to_string(options_.min_password) + " characters");
  }
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::ResourceExhausted("not enough memory to hash the password");
  }
  SecretBytes secret(20);
  randombytes_buf(secret.data(), secret.size());
  nlohmann::json row = {{"roles", account.roles},
                        {"businesses", account.businesses},
                        {"password", std::string(hash)},
                        {"totp", HexEncode(secret.span())},
                        {"last_step", 0},
                        {"failures", 0},
                        {"locked_until_us", 0}};
  std::lock_guard<std::mutex> lock(mu_);
  auto existing = store_->GetAccount(account.tenant, account.name);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Status::AlreadyExists("account " + account.name + " exists in " + account.tenant);
  }
  std::string text = row.dump();
  Status put = store_->PutAccount(account.tenant, account.name, text);
  sodium_memzero(text.data(), text.size());
  IPN_RETURN_IF_ERROR(put);
  return Enrolment{Base32(secret.span()), TotpUri(account.tenant, account.name, secret.span())};
}

Result<Account> Accounts::LogIn(std::string_view tenant, std::string_view name,
                                std::string_view password, std::string_view code, bool* known) {
  if (known != nullptr) *known = false;
  if (!CheckName(name).ok() || tenant.empty()) return Refused();
  std::lock_guard<std::mutex> lock(mu_);
  auto text = store_->GetAccount(tenant, name);
  if (!text.ok() && text.status().code() != Status::Code::kNotFound) return text.status();
  if (!text.ok() || !text->has_value()) {
    // The same work as for a real account: the time taken does not say it is unknown.
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password.data(), password.size(),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      return Status::ResourceExhausted("not enough memory to check the password");
    }
    return Refused();
  }
  if (known != nullptr) *known = true;
  nlohmann::json row = nlohmann::json::parse(**text, nullptr, false);
  sodium_memzero((*text)->data(), (*text)->size());
  if (row.is_discarded() || !row.is_object()) return Status::Corruption("an account row");
  const int64_t now = clock_->NowMicros();
  const int64_t locked_until = row.value("locked_until_us", int64_t{0});
  if (now < locked_until) {
    return Status::PermissionDenied(
        "the account is locked after too many failed log-ins; try again in " +
        std::to_string((locked_until - now) / 60'000'000 + 1) + " min");
  }
  const std::string hash = row.value("password", "");
  const bool password_ok =
      crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  Result<std::vector<uint8_t>> secret = HexDecode(row.value("totp", ""));
  if (!secret.ok()) return Status::Corruption("an account's second factor");
  const std::optional<uint64_t> step =
      VerifyTotp(*secret, code, now / 1'000'000, row.value("last_step", uint64_t{0}));
  sodium_memzero(secret->data(), secret->size());
  const bool ok = password_ok && step.has_value();
  if (ok) {
    row["last_step"] = *step;  // this code, and every earlier one, is spent
    row["failures"] = 0;
  } else {
    const uint32_t failures = row.value("failures", uint32_t{0}) + 1;
    row["failures"] = failures;
    if (failures >= options_.max_failures) {
      row["locked_until_us"] = now + options_.lockout_us;
      row["failures"] = 0;
    }
  }
  std::string updated = row.dump();
  Status put = store_->PutAccount(tenant, name, updated);
  sodium_memzero(updated.data(), updated.size());
  row["totp"] = "";
  IPN_RETURN_IF_ERROR(put);
  if (!ok) return Refused();
  Account account;
  account.tenant = std::string(tenant);
  account.name = std::string(name);
  account.roles = row.value("roles", std::set<std::string>{});
  account.businesses = row.value("businesses", std::set<std::string>{});
  return account;
}

}  // namespace ipn::middle
