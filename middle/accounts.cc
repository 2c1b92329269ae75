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

Status Accounts::CheckNew(const Account& account) {
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
  if (account.system && (platform || account.Has("admin"))) {
    return Status::InvalidArgument("a system account is a tenant's registrar or inquirer");
  }
  if (account.Has("inquirer") && account.businesses.empty()) {
    return Status::InvalidArgument("an inquirer's account names its businesses");
  }
  auto existing = store_->GetAccount(account.tenant, account.name);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Status::AlreadyExists("account " + account.name + " exists in " + account.tenant);
  }
  return Status::Ok();
}

Result<std::string> Accounts::CreateSystem(const Account& account) {
  Account system = account;
  system.system = true;
  std::lock_guard<std::mutex> lock(mu_);
  IPN_RETURN_IF_ERROR(CheckNew(system));
  uint8_t secret[32], hash[32];
  randombytes_buf(secret, sizeof(secret));
  crypto_generichash(hash, sizeof(hash), secret, sizeof(secret), nullptr, 0);
  std::string key = account.tenant + ":" + account.name + ":" + HexEncode(secret);
  sodium_memzero(secret, sizeof(secret));
  const nlohmann::json row = {{"roles", account.roles},
                              {"businesses", account.businesses},
                              {"system", true},
                              {"key_hash", HexEncode(hash)}};
  IPN_RETURN_IF_ERROR(store_->PutAccount(account.tenant, account.name, row.dump()));
  return key;
}

Result<Account> Accounts::Authenticate(std::string_view api_key) {
  const Status wrong = Status::PermissionDenied("wrong API key");
  const size_t first = api_key.find(':'), last = api_key.rfind(':');
  if (first == std::string_view::npos || first == last || api_key.size() - last - 1 != 64) {
    return wrong;
  }
  const std::string tenant(api_key.substr(0, first)),
      name(api_key.substr(first + 1, last - first - 1));
  Result<std::vector<uint8_t>> secret = HexDecode(api_key.substr(last + 1));
  if (!secret.ok() || !CheckName(name).ok()) return wrong;
  uint8_t hash[32];
  crypto_generichash(hash, sizeof(hash), secret->data(), secret->size(), nullptr, 0);
  sodium_memzero(secret->data(), secret->size());
  auto text = store_->GetAccount(tenant, name);
  if (!text.ok() || !text->has_value()) return wrong;
  const nlohmann::json row = nlohmann::json::parse(**text, nullptr, false);
  if (row.is_discarded() || !row.value("system", false)) return wrong;
  Result<std::vector<uint8_t>> stored = HexDecode(row.value("key_hash", ""));
  if (!stored.ok() || stored->size() != sizeof(hash) ||
      sodium_memcmp(stored->data(), hash, sizeof(hash)) != 0) {
    return wrong;
  }
  Account account;
  account.tenant = tenant;
  account.name = name;
  account.system = true;
  account.roles = row.value("roles", std::set<std::string>{});
  account.businesses = row.value("businesses", std::set<std::string>{});
  return account;
}

Result<Enrolment> Accounts::Create(const Account& account, std::string_view password) {
  if (account.system)
    return Status::InvalidArgument("a system account has an API key (CreateSystem)");
  IPN_RETURN_IF_ERROR(CheckNew(account));  // before the costly hash; again under the lock
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
  IPN_RETURN_IF_ERROR(CheckNew(account));
  std::string text = row.dump();
  Status put = store_->PutAccount(account.tenant, account.name, text);
  sodium_memzero(text.data(), text.size());
  IPN_RETURN_IF_ERROR(put);
  return Enrolment{Base32(secret.span()), TotpUri(account.tenant, account.name, secret.span())};
}

namespace {

// The work a real check does, for a name that has no password: the time taken does not
// say which names exist.
Status DummyHash(std::string_view password) {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::ResourceExhausted("not enough memory to check the password");
  }
  return Status::Ok();
}

Result<nlohmann::json> ReadRow(const MiddleStore& store, std::string_view tenant,
                               std::string_view name) {
  auto text = store.GetAccount(tenant, name);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return Status::NotFound("no such account");
  nlohmann::json row = nlohmann::json::parse(**text, nullptr, false);
  sodium_memzero((*text)->data(), (*text)->size());
  if (row.is_discarded() || !row.is_object()) return Status::Corruption("an account row");
  return row;
}

}  // namespace

// Two phases: the costly checks (Argon2, TOTP) run unlocked, so that log-ins do not queue
// behind each other; then, under the lock, the row is read again and its counters moved
// on — a code another log-in spent meanwhile, or a lock set meanwhile, still refuses.
Result<Account> Accounts::LogIn(std::string_view tenant, std::string_view name,
                                std::string_view password, std::string_view code, bool* known) {
  if (known != nullptr) *known = false;
  if (!CheckName(name).ok() || tenant.empty()) return Refused();
  Result<nlohmann::json> first = ReadRow(*store_, tenant, name);
  if (!first.ok() && first.status().code() != Status::Code::kNotFound) return first.status();
  // Unknown, a system's (its API key, never a password) or locked: refused after the same
  // work, and not audited (`known` stays false) — these cost an outsider nothing, so an
  // entry each would let one grow the tenant's log at will.
  const int64_t now = clock_->NowMicros();
  if (!first.ok() || first->value("system", false) ||
      now < first->value("locked_until_us", int64_t{0})) {
    IPN_RETURN_IF_ERROR(DummyHash(password));
    if (first.ok() && !first->value("system", false)) {
      const int64_t left = first->value("locked_until_us", int64_t{0}) - now;
      return Status::PermissionDenied(
          "the account is locked after too many failed log-ins; try again in " +
          std::to_string(left / 60'000'000 + 1) + " min");
    }
    return Refused();
  }
  const std::string hash = first->value("password", "");
  const bool password_ok =
      crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  Result<std::vector<uint8_t>> secret = HexDecode(first->value("totp", ""));
  (*first)["totp"] = "";
  if (!secret.ok()) return Status::Corruption("an account's second factor");
  const std::optional<uint64_t> step = VerifyTotp(*secret, code, now / 1'000'000, 0);
  sodium_memzero(secret->data(), secret->size());

  std::lock_guard<std::mutex> lock(mu_);
  Result<nlohmann::json> row = ReadRow(*store_, tenant, name);
  if (!row.ok()) return row.status().code() == Status::Code::kNotFound ? Refused() : row.status();
  if (known != nullptr) *known = true;
  const bool ok = password_ok && step.has_value() &&
                  *step > row->value("last_step", uint64_t{0}) &&  // never twice
                  now >= row->value("locked_until_us", int64_t{0});
  if (ok) {
    (*row)["last_step"] = *step;  // this code, and every earlier one, is spent
    (*row)["failures"] = 0;
  } else {
    const uint32_t failures = row->value("failures", uint32_t{0}) + 1;
    (*row)["failures"] = failures;
    if (failures >= options_.max_failures) {
      (*row)["locked_until_us"] = now + options_.lockout_us;
      (*row)["failures"] = 0;
    }
  }
  std::string updated = row->dump();
  Status put = store_->PutAccount(tenant, name, updated);
  sodium_memzero(updated.data(), updated.size());
  (*row)["totp"] = "";
  IPN_RETURN_IF_ERROR(put);
  if (!ok) return Refused();
  Account account;
  account.tenant = std::string(tenant);
  account.name = std::string(name);
  account.roles = row->value("roles", std::set<std::string>{});
  account.businesses = row->value("businesses", std::set<std::string>{});
  return account;
}

}  // namespace ipn::middle
