// The signed tariff file: parse, check the signature, sign (tariff.h).
#include "oversight/tariff.h"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

#include "common/civil_time.h"
#include "common/encoding.h"

namespace ipn::oversight {
namespace {

constexpr std::string_view kDomain = "ipn-tariff/1\n";
constexpr std::string_view kBusinessPrefix = "business.";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// One line: its text without the comment, and where it starts in the file.
struct Line {
  size_t number = 0, offset = 0;
  std::string_view key, value;  // both empty for a blank or comment line
};

Status LineError(const Line& line, const std::string& what) {
  return Status::InvalidArgument("tariff line " + std::to_string(line.number) + ": " + what);
}

Result<std::vector<Line>> SplitLines(std::string_view text) {
  std::vector<Line> lines;
  size_t offset = 0, number = 0;
  while (offset < text.size()) {
    size_t end = text.find('\n', offset);
    if (end == std::string_view::npos) end = text.size();
    Line line;
    line.number = ++number;
    line.offset = offset;
    std::string_view body = text.substr(offset, end - offset);
    if (size_t hash = body.find('#'); hash != std::string_view::npos) body = body.substr(0, hash);
    body = Trim(body);
    if (!body.empty()) {
      size_t eq = body.find('=');
      if (eq == std::string_view::npos) return LineError(line, "expected `key = value`");
      line.key = Trim(body.substr(0, eq));
      line.value = Trim(body.substr(eq + 1));
      if (line.key.empty() || line.value.empty()) {
        return LineError(line, "expected `key = value`");
      }
    }
    lines.push_back(line);
    offset = end + 1;
  }
  return lines;
}

// "0.5", "12", "0.05": yen with at most two decimals, as sen.
std::optional<int64_t> ParseSen(std::string_view v) {
  size_t dot = v.find('.');
  std::string_view whole = v.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : v.substr(dot + 1);
  if (whole.empty() || whole.size() > 7 || frac.size() > 2) return std::nullopt;
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;
  int64_t sen = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    sen = sen * 10 + (c - '0');
  }
  for (size_t i = 0; i < 2; ++i) {
    char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    sen = sen * 10 + (c - '0');
  }
  if (sen > kMaxSenPerExchange) return std::nullopt;
  return sen;
}

std::optional<CivilDate> ParseDate(std::string_view v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return std::nullopt;
  auto num = [&](size_t at, size_t n) -> std::optional<int64_t> {
    int64_t x = 0;
    auto [p, ec] = std::from_chars(v.data() + at, v.data() + at + n, x);
    if (ec != std::errc() || p != v.data() + at + n) return std::nullopt;
    return x;
  };
  auto y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > 31) return std::nullopt;
  CivilDate date{*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d)};
  if (!IsValidDate(date)) return std::nullopt;
  return date;
}

bool IsCode(std::string_view code) {
  if (code.empty() || code.size() > 64) return false;
  for (char c : code) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// The tariff's fields from the lines before the signature.
Result<Tariff> ParseFields(const std::vector<Line>& lines) {
  Tariff t;
  bool have_version = false, have_from = false, have_default = false;
  for (const Line& line : lines) {
    if (line.key.empty()) continue;
    if (line.key == "version") {
      if (have_version) return LineError(line, "version given twice");
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(line.value.data(), line.value.data() + line.value.size(), v);
      if (ec != std::errc() || p != line.value.data() + line.value.size() || v == 0) {
        return LineError(line, "version must be a positive whole number");
      }
      t.version = v;
      have_version = true;
    } else if (line.key == "effective_from") {
      if (have_from) return LineError(line, "effective_from given twice");
      std::optional<CivilDate> date = ParseDate(line.value);
      if (!date) return LineError(line, "effective_from must be a date YYYY-MM-DD");
      t.effective_from = FormatDate(*date);
      t.effective_from_unix_us = JstDayStart(DaysFromCivil(*date));
      have_from = true;
    } else if (line.key == "yen_per_exchange") {
      if (have_default) return LineError(line, "yen_per_exchange given twice");
      std::optional<int64_t> sen = ParseSen(line.value);
      if (!sen) return LineError(line, "an amount is yen with at most two decimals, ≤ 1000000");
      t.default_sen = *sen;
      have_default = true;
    } else if (line.key.starts_with(kBusinessPrefix)) {
      std::string code(line.key.substr(kBusinessPrefix.size()));
      if (!IsCode(code)) return LineError(line, "business.<code>: not a business code");
      if (t.business_sen.count(code)) return LineError(line, "business." + code + " given twice");
      std::optional<int64_t> sen = ParseSen(line.value);
      if (!sen) return LineError(line, "an amount is yen with at most two decimals, ≤ 1000000");
      t.business_sen[code] = *sen;
    } else if (line.key == "signature") {
      return LineError(line, "signature must be the last line");
    } else {
      return LineError(line, "unknown key `" + std::string(line.key) + "`");
    }
  }
  if (!have_version) return Status::InvalidArgument("tariff: version is missing");
  if (!have_from) return Status::InvalidArgument("tariff: effective_from is missing");
  if (!have_default) return Status::InvalidArgument("tariff: yen_per_exchange is missing");
  return t;
}

std::string SignedMessage(std::string_view body) {
  std::string m(kDomain);
  m.append(body);
  return m;
}

// Index of the signature line among `lines`, if any.
std::optional<size_t> SignatureLine(const std::vector<Line>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].key == "signature") return i;
  }
  return std::nullopt;
}

}  // namespace

int64_t Tariff::SenFor(const std::string& business) const {
  auto it = business_sen.find(business);
  return it == business_sen.end() ? default_sen : it->second;
}

Result<Tariff> ParseSignedTariff(std::string_view text, std::span<const uint8_t, 32> admin_key) {
  Result<std::vector<Line>> lines = SplitLines(text);
  if (!lines.ok()) return lines.status();
  std::optional<size_t> sig = SignatureLine(*lines);
  if (!sig) return Status::PermissionDenied("tariff: not signed (no signature line)");
  for (size_t i = *sig + 1; i < lines->size(); ++i) {
    if (!(*lines)[i].key.empty()) return LineError((*lines)[i], "nothing may follow the signature");
  }
  const Line& s = (*lines)[*sig];
  std::vector<Line> fields(lines->begin(), lines->begin() + static_cast<std::ptrdiff_t>(*sig));
  Result<Tariff> t = ParseFields(fields);
  if (!t.ok()) return t.status();
  Result<std::vector<uint8_t>> signature = HexDecode(s.value);
  if (!signature.ok() || signature->size() != crypto_sign_BYTES) {
    return LineError(s, "signature must be 128 hex digits");
  }
  const std::string message = SignedMessage(text.substr(0, s.offset));
  if (crypto_sign_verify_detached(signature->data(),
                                  reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size(), admin_key.data()) != 0) {
    return Status::PermissionDenied(
        "tariff: the signature does not verify with the policy administrator's key");
  }
  // The digest covers what was signed and the signature, not whatever may trail it.
  const size_t signature_end = std::min(text.size(), text.find('\n', s.offset));
  crypto_hash_sha256(t->digest.data(), reinterpret_cast<const unsigned char*>(text.data()),
                     signature_end);
  return t;
}

Result<std::string> SignTariff(std::string_view text, std::span<const uint8_t> admin_secret_key) {
  if (admin_secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return Status::InvalidArgument("the policy administrator's secret key must be 64 bytes");
  }
  Result<std::vector<Line>> lines = SplitLines(text);
  if (!lines.ok()) return lines.status();
  std::string body(text);
  if (std::optional<size_t> sig = SignatureLine(*lines)) {
    for (size_t i = *sig + 1; i < lines->size(); ++i) {
      if (!(*lines)[i].key.empty()) {
        return LineError((*lines)[i], "nothing may follow the signature");
      }
    }
    body = std::string(text.substr(0, (*lines)[*sig].offset));
    lines->resize(*sig);
  }
  if (Result<Tariff> t = ParseFields(*lines); !t.ok()) return t.status();
  if (!body.empty() && body.back() != '\n') body.push_back('\n');
  const std::string message = SignedMessage(body);
  std::array<uint8_t, crypto_sign_BYTES> signature{};
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       admin_secret_key.data());
  return body + "signature = " + HexEncode(signature) + "\n";
}

std::string FormatYen(int64_t sen) {
  const bool negative = sen < 0;
  const uint64_t v = negative ? 0 - static_cast<uint64_t>(sen) : static_cast<uint64_t>(sen);
  std::string frac = std::to_string(v % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(v / 100) + "." + frac;
}

}  // namespace ipn::oversight
