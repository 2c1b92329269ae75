// The thresholds file parser: `key = value` lines, `#` comments, blank lines.
#include "oversight/anomaly_thresholds.h"

#include <charconv>
#include <climits>
#include <cmath>
#include <set>
#include <system_error>
#include <variant>

#include "common/file_util.h"

namespace ipn::oversight {
namespace {

using Member = std::variant<int64_t AnomalyThresholds::*, int AnomalyThresholds::*,
                            uint64_t AnomalyThresholds::*, double AnomalyThresholds::*>;

struct Field {
  std::string_view key;
  Member member;
  bool is_minutes;  // a length of time, capped at kMaxThresholdMinutes
};

constexpr Field kFields[] = {
    {"volume_bucket_minutes", &AnomalyThresholds::volume_bucket_minutes, true},
    {"volume_min_baseline_buckets", &AnomalyThresholds::volume_min_baseline_buckets, false},
    {"volume_factor", &AnomalyThresholds::volume_factor, false},
    {"volume_min_count", &AnomalyThresholds::volume_min_count, false},
    {"refusal_window_minutes", &AnomalyThresholds::refusal_window_minutes, true},
    {"refusal_min_count", &AnomalyThresholds::refusal_min_count, false},
    {"person_window_minutes", &AnomalyThresholds::person_window_minutes, true},
    {"person_min_count", &AnomalyThresholds::person_min_count, false},
    {"off_hours_grace_minutes", &AnomalyThresholds::off_hours_grace_minutes, true},
    {"off_hours_min_count", &AnomalyThresholds::off_hours_min_count, false},
};

std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string Quoted(std::string_view s) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  out += s.substr(0, kMaxShown);
  if (s.size() > kMaxShown) out += "…";
  out += "\"";
  return out;
}

Status LineError(size_t line_number, std::string_view what) {
  return Status::InvalidArgument("thresholds line " + std::to_string(line_number) + ": " +
                                 std::string(what));
}

// A whole positive integer no larger than `max`.
bool ParsePositiveInteger(std::string_view text, int64_t max, int64_t* out, std::string* why) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error == std::errc::invalid_argument || end != text.data() + text.size()) {
    *why = "is not a whole number";
    return false;
  }
  if (error == std::errc::result_out_of_range || value > max) {
    *why = "is out of range (at most " + std::to_string(max) + ")";
    return false;
  }
  if (value <= 0) {
    *why = "must be positive";
    return false;
  }
  *out = value;
  return true;
}

bool ParsePositiveNumber(std::string_view text, double* out, std::string* why) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    *why = "is not a finite number";
    return false;
  }
  if (value <= 0) {
    *why = "must be positive";
    return false;
  }
  *out = value;
  return true;
}

// Sets `field` of `thresholds` from `text`; on failure says why in `why`.
bool SetField(const Field& field, std::string_view text, AnomalyThresholds* thresholds,
              std::string* why) {
  if (const auto* m = std::get_if<double AnomalyThresholds::*>(&field.member)) {
    return ParsePositiveNumber(text, &(thresholds->**m), why);
  }
  int64_t max = INT64_MAX;
  if (field.is_minutes) max = kMaxThresholdMinutes;
  if (std::holds_alternative<int AnomalyThresholds::*>(field.member)) max = INT_MAX;
  int64_t value = 0;
  if (!ParsePositiveInteger(text, max, &value, why)) return false;
  if (const auto* m = std::get_if<int64_t AnomalyThresholds::*>(&field.member)) {
    thresholds->** m = value;
  } else if (const auto* mi = std::get_if<int AnomalyThresholds::*>(&field.member)) {
    thresholds->** mi = static_cast<int>(value);
  } else if (const auto* mu = std::get_if<uint64_t AnomalyThresholds::*>(&field.member)) {
    thresholds->** mu = static_cast<uint64_t>(value);
  }
  return true;
}

}  // namespace

Result<AnomalyThresholds> ParseAnomalyThresholds(std::string_view text) {
  AnomalyThresholds thresholds;
  std::set<std::string_view> seen;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);

    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = Trim(line);
    if (line.empty()) continue;

    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return LineError(line_number, "expected `key = value`, got " + Quoted(line));
    }
    const std::string_view key = Trim(line.substr(0, equals));
    const std::string_view value = Trim(line.substr(equals + 1));
    const Field* field = nullptr;
    for (const Field& f : kFields) {
      if (f.key == key) field = &f;
    }
    if (field == nullptr) return LineError(line_number, "unknown key " + Quoted(key));
    if (!seen.insert(field->key).second) {
      return LineError(line_number, std::string(key) + " is given twice");
    }
    std::string why;
    if (!SetField(*field, value, &thresholds, &why)) {
      return LineError(line_number, std::string(key) + " = " + Quoted(value) + " " + why);
    }
  }
  return thresholds;
}

Result<AnomalyThresholds> LoadAnomalyThresholds(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Result<AnomalyThresholds> thresholds = ParseAnomalyThresholds(*text);
  if (!thresholds.ok()) return thresholds.status().WithContext(path);
  return thresholds;
}

}  // namespace ipn::oversight
