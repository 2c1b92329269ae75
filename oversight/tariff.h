// Tariff: the per-exchange fee (情報提供手数料) the provision agreements charge the
// inquiring agency, read from a signed tariff file (docs/oversight.md, "Fee statements"):
//
//   # comments and blank lines are ignored
//   version = 3
//   effective_from = 2026-04-01      # a JST date: the first day this tariff applies
//   yen_per_exchange = 0.50          # every chargeable exchange, unless its business says
//   business.JUKI-HONNIN = 0.30      # one business's own rate
//   signature = <128 hex digits>
//
// Amounts are yen with at most two decimals, kept as integer sen (1/100 yen) so that no
// total is ever rounded. The signature line is last: Ed25519 (crypto_sign_detached) by the
// policy administrator's key (the key that signs policy bundles) over "ipn-tariff/1\n"
// followed by every byte of the file before that line, exactly as it sits on disk.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ipn::oversight {

struct Tariff {
  uint64_t version = 0;
  std::string effective_from;          // "YYYY-MM-DD", JST
  int64_t effective_from_unix_us = 0;  // 00:00 JST of that day
  int64_t default_sen = 0;             // per chargeable exchange
  std::map<std::string, int64_t> business_sen;
  // SHA-256 of the file up to the end of its signature line: names it in a statement.
  std::array<uint8_t, 32> digest{};

  int64_t SenFor(const std::string& business) const;
};

// Largest amount per exchange accepted (1,000,000 yen), so that any quarter's total fits.
inline constexpr int64_t kMaxSenPerExchange = 100'000'000;

// Parses and checks a signed tariff file. A line that is not `key = value`, an unknown or
// repeated key, a bad amount or date, a missing field, or anything after the signature
// line is InvalidArgument naming the line; a missing or wrong signature is
// PermissionDenied.
Result<Tariff> ParseSignedTariff(std::string_view text, std::span<const uint8_t, 32> admin_key);

// Signs an unsigned tariff file (an existing signature line is replaced) with the policy
// administrator's 64-byte secret key. The text must parse as a tariff.
Result<std::string> SignTariff(std::string_view text, std::span<const uint8_t> admin_secret_key);

// "0.50" for 50 sen.
std::string FormatYen(int64_t sen);

}  // namespace ipn::oversight
