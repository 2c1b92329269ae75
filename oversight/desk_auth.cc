// Investigators' log-in at the commission's desk: password (Argon2id) and TOTP.
#include "oversight/desk_auth.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "common/big_endian.h"
#include "common/encoding.h"
#include "common/file_util.h"

namespace ipn::oversight {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Takes the next line off `text`, without its '\n' (or a '\r' before it).
std::string_view TakeLine(std::string_view& text) {
  const size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

Result<std::vector<Investigator>> ParseInvestigators(std::string_view text) {
  std::vector<Investigator> out;
  size_t line_no = 0;
  while (!text.empty()) {
    const std::string_view line = TakeLine(text);
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "accounts file line " + std::to_string(line_no);
    const size_t a = line.find(':');
    const size_t b = line.rfind(':');
    if (a == std::string_view::npos || a == b) {
      return Status::InvalidArgument(where + ": expected name:password-hash:totp-secret");
    }
    Investigator inv;
    inv.name = std::string(line.substr(0, a));
    inv.password_hash = std::string(line.substr(a + 1, b - a - 1));
    if (!ValidName(inv.name)) return Status::InvalidArgument(where + ": a bad name");
    if (!inv.password_hash.starts_with("$argon2id$") ||
        inv.password_hash.size() >= crypto_pwhash_STRBYTES) {
      return Status::InvalidArgument(where + ": the password hash is not an Argon2id string");
    }
    Result<std::vector<uint8_t>> secret = HexDecode(line.substr(b + 1));
    if (!secret.ok() || secret->size() < 20 || secret->size() > 64) {
      return Status::InvalidArgument(where + ": the TOTP secret must be 20 to 64 bytes in hex");
    }
    inv.totp_secret = SecretBytes(secret->size());
    std::copy(secret->begin(), secret->end(), inv.totp_secret.data());
    sodium_memzero(secret->data(), secret->size());
    for (const Investigator& other : out) {
      if (other.name == inv.name) return Status::InvalidArgument(where + ": a repeated name");
    }
    out.push_back(std::move(inv));
  }
  return out;
}

Result<std::string> InvestigatorLine(std::string_view name, std::string_view password,
                                     std::span<const uint8_t> totp_secret) {
  if (!ValidName(name)) {
    return Status::InvalidArgument("a name is 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  if (password.size() < 12) return Status::InvalidArgument("a password has at least 12 characters");
  if (totp_secret.size() < 20 || totp_secret.size() > 64) {
    return Status::InvalidArgument("the TOTP secret must be 20 to 64 bytes");
  }
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::ResourceExhausted("not enough memory to hash the password");
  }
  return std::string(name) + ":" + hash + ":" + HexEncode(totp_secret);
}

std::string TotpCode(std::span<const uint8_t> secret, uint64_t step) {
  uint8_t message[8];
  PutBigEndian64(step, message);
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, secret.data(), secret.size());
  crypto_auth_hmacsha256_update(&st, message, sizeof message);
  crypto_auth_hmacsha256_final(&st, mac);
  sodium_memzero(&st, sizeof st);
  // RFC 4226 §5.3 dynamic truncation.
  const int offset = mac[sizeof mac - 1] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  sodium_memzero(mac, sizeof mac);
  std::string code = std::to_string(binary % 1'000'000);
  return std::string(6 - code.size(), '0') + code;
}

std::string TotpUri(std::string_view name, std::span<const uint8_t> secret) {
  return "otpauth://totp/IPN%20desk:" + std::string(name) +
         "?secret=" + Base32Rfc4648Encode(secret) +
         "&issuer=IPN%20desk&algorithm=SHA256&digits=6&period=30";
}

DeskAuth::DeskAuth(std::vector<Investigator> accounts, const Clock* clock) : clock_(clock) {
  for (Investigator& inv : accounts) {
    accounts_[inv.name] = Account{std::move(inv.password_hash), std::move(inv.totp_secret), 0};
  }
  char hash[crypto_pwhash_STRBYTES];
  uint8_t random[16];
  randombytes_buf(random, sizeof random);
  if (crypto_pwhash_str(hash, reinterpret_cast<const char*>(random), sizeof random,
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0) {
    dummy_hash_ = hash;
  }
}

std::string DeskAuth::Digest(std::string_view page_half, std::string_view cookie_half) {
  const std::string both = std::string(page_half) + "." + std::string(cookie_half);
  uint8_t d[32];
  crypto_generichash(d, sizeof d, reinterpret_cast<const uint8_t*>(both.data()), both.size(),
                     nullptr, 0);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

bool DeskAuth::LockedLocked(const std::string& name, int64_t now) {
  auto it = failures_.find(name);
  if (it == failures_.end()) return false;
  if (now - it->second.first_us >= kLockoutUs) {
    failures_.erase(it);
    return false;
  }
  return it->second.count >= kMaxFailures;
}

void DeskAuth::FailLocked(const std::string& name, int64_t now) {
  // Only accounts are tracked (a name that is none cannot be locked out of anything): the
  // table is bounded by the accounts file, and no flood of made-up names can push a real
  // account's failures out of it.
  if (!accounts_.contains(name)) return;
  Failures& f = failures_[name];
  if (f.count == 0) f.first_us = now;
  ++f.count;
}

int64_t DeskAuth::LockedForSeconds(std::string_view name) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMicros();
  const std::string n(name);
  if (!LockedLocked(n, now)) return 0;
  return (failures_[n].first_us + kLockoutUs - now + 999'999) / 1'000'000;
}

bool DeskAuth::CodeMatchesLocked(Account& account, std::string_view code, int64_t now) {
  if (code.size() != 6 || now < kTotpStepUs) return false;
  const uint64_t step = static_cast<uint64_t>(now / kTotpStepUs);
  bool matched = false;
  uint64_t matched_step = 0;
  // One step either way for clocks a little apart; every candidate compared in constant time.
  for (uint64_t s = step - 1; s <= step + 1; ++s) {
    const std::string expected = TotpCode(account.totp_secret.span(), s);
    if (sodium_memcmp(expected.data(), code.data(), 6) == 0 && s > account.last_step) {
      matched = true;
      matched_step = s;
    }
  }
  if (matched) account.last_step = matched_step;
  return matched;
}

Status DeskAuth::KeepStepsIn(const std::string& path) {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> saved;  // applied only once the whole file has parsed
  std::error_code absent;
  if (std::filesystem::exists(path, absent)) {
    Result<std::string> text = ReadFile(path);
    if (!text.ok()) return text.status();
    int line_no = 0;
    for (std::string_view rest = *text; !rest.empty();) {
      const std::string_view line = TakeLine(rest);
      ++line_no;
      if (line.empty()) continue;
      const size_t space = line.find(' ');
      uint64_t step = 0;
      const std::string_view digits = space == std::string_view::npos ? "" : line.substr(space + 1);
      const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
      if (space == std::string_view::npos || digits.empty() || ec != std::errc() ||
          ptr != digits.data() + digits.size()) {
        return Status::InvalidArgument(path + " line " + std::to_string(line_no) +
                                       ": expected \"name step\"");
      }
      uint64_t& last = saved[std::string(line.substr(0, space))];
      last = std::max(last, step);
    }
  }
  for (const auto& [name, step] : saved) {
    auto it = accounts_.find(name);
    if (it != accounts_.end()) it->second.last_step = std::max(it->second.last_step, step);
  }
  steps_path_ = path;
  return SaveStepsLocked();  // at once: a path the desk cannot write is found at start
}

Status DeskAuth::SaveStepsLocked() {
  if (steps_path_.empty()) return Status::Ok();
  std::string text;
  for (const auto& [name, account] : accounts_) {
    if (account.last_step > 0) text += name + " " + std::to_string(account.last_step) + "\n";
  }
  return WriteFileAtomic(steps_path_, text);
}

Result<DeskSession> DeskAuth::LogIn(std::string_view name, std::string_view password,
                                    std::string_view code, std::string* refused_because) {
  std::string ignored;
  std::string& why = refused_because != nullptr ? *refused_because : ignored;
  why.clear();
  // No account has such a name: refused at once (nothing learnt, no Argon2id to pay).
  if (!ValidName(name)) {
    why = "no such investigator";
    return Status::PermissionDenied("wrong name, password or one-time code");
  }
  const std::string n(name);
  std::unique_lock lock(mu_);
  const int64_t now = clock_->NowMicros();
  if (LockedLocked(n, now)) {
    why = "locked after too many failed log-ins";
    return Status::ResourceExhausted(
        "locked after too many failed log-ins; retry in " +
        std::to_string((failures_[n].first_us + kLockoutUs - now) / 1'000'000) + " s");
  }
  auto it = accounts_.find(n);
  const std::string hash = it == accounts_.end() ? dummy_hash_ : it->second.password_hash;
  // Counted as a failure before the check and forgiven on success, so that requests in
  // parallel cannot each pass the lockout above while Argon2id runs.
  FailLocked(n, now);
  // Argon2id takes tens of milliseconds: not under the lock.
  lock.unlock();
  const bool password_ok =
      !hash.empty() && password.size() <= 1024 &&
      crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  lock.lock();
  const bool ok = password_ok && it != accounts_.end() && CodeMatchesLocked(it->second, code, now);
  if (!ok) {
    why = it == accounts_.end() ? "no such investigator"
          : !password_ok        ? "wrong password"
                                : "the password was right; the one-time code was wrong or used";
    return Status::PermissionDenied("wrong name, password or one-time code");
  }
  // The code is spent before the session exists: saved first, so that a restart of the
  // desk cannot make it good again.
  if (Status saved = SaveStepsLocked(); !saved.ok()) {
    why = "the code's use could not be saved: " + saved.message();
    return Status::Unavailable("the desk cannot record this log-in: " + saved.message());
  }
  failures_.erase(n);
  if (sessions_.size() >= kMaxSessions) {
    std::erase_if(sessions_, [&](const auto& s) {
      return now - s.second.last_used_us >= kIdleUs || now - s.second.opened_us >= kSessionMaxUs;
    });
    if (sessions_.size() >= kMaxSessions) {
      return Status::Unavailable("too many sessions open at the desk");
    }
  }
  uint8_t halves[32];
  randombytes_buf(halves, sizeof halves);
  DeskSession s{Base64UrlEncode({halves, 16}), Base64UrlEncode({halves + 16, 16}), now + kIdleUs};
  sodium_memzero(halves, sizeof halves);
  sessions_[Digest(s.page_half, s.cookie_half)] = Session{n, now, now};
  return s;
}

Result<std::string> DeskAuth::SessionOwner(std::string_view page_half,
                                           std::string_view cookie_half) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMicros();
  auto it = sessions_.find(Digest(page_half, cookie_half));
  if (it == sessions_.end()) return Status::PermissionDenied("no session");
  if (now - it->second.last_used_us >= kIdleUs || now - it->second.opened_us >= kSessionMaxUs) {
    sessions_.erase(it);
    return Status::PermissionDenied("the session has ended");
  }
  it->second.last_used_us = now;
  return it->second.name;
}

void DeskAuth::LogOut(std::string_view page_half, std::string_view cookie_half) {
  std::lock_guard lock(mu_);
  sessions_.erase(Digest(page_half, cookie_half));
}

}  // namespace ipn::oversight
