// The policy compiler: CSV source -> PolicyBundle -> validated unsigned bundle file.
#include "policy/compiler.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string_view>
#include <utility>

#include "common/encoding.h"
#include "common/file_util.h"
#include "ipn/v1/policy.pb.h"
#include "policy/bundle.h"
#include "policy/csv.h"

namespace ipn::policy {
namespace {

constexpr const char* kSourceFiles[] = {"agencies.csv", "businesses.csv", "items.csv", "links.csv"};
constexpr double kDefaultRatePerSecond = 1000;
constexpr double kDefaultBurstSeconds = 5;

// A parsed CSV file with its columns looked up by name.
class Sheet {
 public:
  static Result<Sheet> Open(const PolicySource& source, const std::string& name,
                            const std::set<std::string>& required,
                            const std::set<std::string>& optional) {
    auto it = source.files.find(name);
    if (it == source.files.end()) return Status::InvalidArgument("policy source lacks " + name);
    auto table = ParseCsv(it->second, name);
    if (!table.ok()) return table.status();
    Sheet sheet;
    sheet.name_ = name;
    sheet.table_ = std::move(*table);
    for (size_t i = 0; i < sheet.table_.header.size(); ++i) {
      const std::string& column = sheet.table_.header[i];
      if (required.count(column) == 0 && optional.count(column) == 0) {
        return Status::InvalidArgument(name + ": unknown column '" + column + "'");
      }
      if (!sheet.columns_.emplace(column, i).second) {
        return Status::InvalidArgument(name + ": column '" + column + "' appears twice");
      }
    }
    for (const std::string& column : required) {
      if (sheet.columns_.count(column) == 0) {
        return Status::InvalidArgument(name + ": missing column '" + column + "'");
      }
    }
    return sheet;
  }

  size_t size() const { return table_.records.size(); }
  bool has(const std::string& column) const { return columns_.count(column) != 0; }
  // The cell, or "" when the column is absent.
  const std::string& at(size_t record, const std::string& column) const {
    static const std::string kEmpty;
    auto it = columns_.find(column);
    return it == columns_.end() ? kEmpty : table_.records[record][it->second];
  }
  int line(size_t record) const { return table_.lines[record]; }
  Status Error(size_t record, const std::string& what) const {
    return Status::InvalidArgument(name_ + " line " + std::to_string(line(record)) + ": " + what);
  }

 private:
  std::string name_;
  CsvTable table_;
  std::map<std::string, size_t> columns_;
};

Result<std::array<uint8_t, 32>> DecodeZ85Key(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  std::array<uint8_t, 32> key{};
  for (size_t block = 0; block < 8; ++block) {
    uint64_t value = 0;
    for (size_t k = 0; k < 5; ++k) {
      const size_t digit = kAlphabet.find(text[block * 5 + k]);
      if (digit == std::string_view::npos) return Status::InvalidArgument("not Z85 text");
      value = value * 85 + digit;
    }
    if (value > 0xFFFFFFFFu) return Status::InvalidArgument("not Z85 text");
    for (size_t k = 0; k < 4; ++k) key[block * 4 + k] = static_cast<uint8_t>(value >> (24 - 8 * k));
  }
  return key;
}

// 64 hex digits or 40 Z85 characters (the form zmq_curve_keypair prints).
Result<std::array<uint8_t, 32>> ParseCurveKey(std::string_view text) {
  std::array<uint8_t, 32> key{};
  if (text.size() == 64) {
    auto bytes = HexDecode(text);
    if (!bytes.ok()) return Status::InvalidArgument("curve_public_key is not valid hex");
    std::copy(bytes->begin(), bytes->end(), key.begin());
  } else if (text.size() == 40) {
    auto z85 = DecodeZ85Key(text);
    if (!z85.ok()) return Status::InvalidArgument("curve_public_key is not valid Z85");
    key = *z85;
  } else {
    return Status::InvalidArgument("curve_public_key must be 64 hex digits or 40 Z85 characters");
  }
  if (sodium_is_zero(key.data(), key.size())) {
    return Status::InvalidArgument("curve_public_key is all zeros");
  }
  return key;
}

Result<bool> ParseBool(std::string_view text) {
  if (text == "yes" || text == "true" || text == "1" || text == "y") return true;
  if (text == "no" || text == "false" || text == "0" || text == "n") return false;
  return Status::InvalidArgument("expected yes or no, got '" + std::string(text) + "'");
}

Result<double> ParsePositive(std::string_view text, const char* what) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value <= 0) {
    return Status::InvalidArgument(std::string(what) + " must be a positive number, got '" +
                                   std::string(text) + "'");
  }
  return value;
}

Status ReadAgencies(const PolicySource& source, ipn::v1::PolicyBundle* bundle) {
  auto sheet = Sheet::Open(source, "agencies.csv", {"code", "class", "name_ja", "name_en"},
                           {"hours", "status", "pia_approved", "curve_public_key", "endpoint",
                            "rate_per_second", "burst"});
  if (!sheet.ok()) return sheet.status();
  for (size_t r = 0; r < sheet->size(); ++r) {
    ipn::v1::PolicyAgency* a = bundle->add_agencies();
    a->set_code(sheet->at(r, "code"));
    a->set_agency_class(sheet->at(r, "class"));
    a->set_name_ja(sheet->at(r, "name_ja"));
    a->set_name_en(sheet->at(r, "name_en"));
    a->set_hours(sheet->at(r, "hours"));
    a->set_endpoint(sheet->at(r, "endpoint"));
    if (a->code().empty()) return sheet->Error(r, "code is empty");
    if (a->agency_class().empty()) return sheet->Error(r, "class is empty");

    const std::string& status = sheet->at(r, "status");
    if (!sheet->has("status") || status == "active") {
      a->set_status(ipn::v1::POLICY_AGENCY_STATUS_ACTIVE);
    } else if (status == "suspended") {
      a->set_status(ipn::v1::POLICY_AGENCY_STATUS_SUSPENDED);
    } else if (status == "retired") {
      a->set_status(ipn::v1::POLICY_AGENCY_STATUS_RETIRED);
    } else {
      return sheet->Error(r, "status must be active, suspended or retired, got '" + status + "'");
    }

    if (!sheet->has("pia_approved")) {
      a->set_pia_approved(true);
    } else {
      auto approved = ParseBool(sheet->at(r, "pia_approved"));
      if (!approved.ok()) return sheet->Error(r, "pia_approved: " + approved.status().message());
      a->set_pia_approved(*approved);
    }

    double rate = kDefaultRatePerSecond;
    if (!sheet->at(r, "rate_per_second").empty()) {
      auto parsed = ParsePositive(sheet->at(r, "rate_per_second"), "rate_per_second");
      if (!parsed.ok()) return sheet->Error(r, parsed.status().message());
      rate = *parsed;
    }
    double burst = std::max(1.0, rate * kDefaultBurstSeconds);
    if (!sheet->at(r, "burst").empty()) {
      auto parsed = ParsePositive(sheet->at(r, "burst"), "burst");
      if (!parsed.ok()) return sheet->Error(r, parsed.status().message());
      if (*parsed < 1) return sheet->Error(r, "burst must be at least 1");
      burst = *parsed;
    }
    a->set_rate_per_second(rate);
    a->set_burst(burst);

    if (const std::string& key = sheet->at(r, "curve_public_key"); !key.empty()) {
      auto parsed = ParseCurveKey(key);
      if (!parsed.ok()) return sheet->Error(r, parsed.status().message());
      a->set_curve_public_key(parsed->data(), parsed->size());
    }
  }
  return Status::Ok();
}

Status ReadNamed(const PolicySource& source, const std::string& name,
                 google::protobuf::RepeatedPtrField<ipn::v1::PolicyNamedCode>* out) {
  auto sheet = Sheet::Open(source, name, {"code", "name_ja", "name_en"}, {});
  if (!sheet.ok()) return sheet.status();
  for (size_t r = 0; r < sheet->size(); ++r) {
    ipn::v1::PolicyNamedCode* n = out->Add();
    n->set_code(sheet->at(r, "code"));
    n->set_name_ja(sheet->at(r, "name_ja"));
    n->set_name_en(sheet->at(r, "name_en"));
    if (n->code().empty()) return sheet->Error(r, "code is empty");
  }
  return Status::Ok();
}

Status ReadLinks(const PolicySource& source, ipn::v1::PolicyBundle* bundle,
                 std::map<uint32_t, int>* line_of_row) {
  auto sheet = Sheet::Open(source, "links.csv",
                           {"inquirer", "business", "provider", "item", "effective_from"},
                           {"effective_to", "legal_basis", "note"});
  if (!sheet.ok()) return sheet.status();
  for (size_t r = 0; r < sheet->size(); ++r) {
    ipn::v1::PolicyLink* l = bundle->add_links();
    l->set_row(static_cast<uint32_t>(r + 1));
    (*line_of_row)[l->row()] = sheet->line(r);
    l->set_inquirer(sheet->at(r, "inquirer"));
    l->set_business(sheet->at(r, "business"));
    l->set_provider(sheet->at(r, "provider"));
    l->set_item(sheet->at(r, "item"));
    l->set_effective_from(sheet->at(r, "effective_from"));
    l->set_effective_to(sheet->at(r, "effective_to"));
    l->set_legal_basis(sheet->at(r, "legal_basis"));
    l->set_note(sheet->at(r, "note"));
    if (l->effective_from().empty()) return sheet->Error(r, "effective_from is empty");
  }
  return Status::Ok();
}

Status ApplyOverrides(const std::map<std::string, AgencyOverride>& overrides,
                      ipn::v1::PolicyBundle* bundle) {
  for (const auto& [code, o] : overrides) {
    ipn::v1::PolicyAgency* a = nullptr;
    for (auto& candidate : *bundle->mutable_agencies()) {
      if (candidate.code() == code) a = &candidate;
    }
    if (a == nullptr)
      return Status::InvalidArgument("override names unknown agency '" + code + "'");
    if (o.curve_public_key) a->set_curve_public_key(o.curve_public_key->data(), 32);
    if (o.endpoint) a->set_endpoint(*o.endpoint);
    if (o.status) {
      switch (*o.status) {
        case AgencyStatus::kActive: a->set_status(ipn::v1::POLICY_AGENCY_STATUS_ACTIVE); break;
        case AgencyStatus::kSuspended:
          a->set_status(ipn::v1::POLICY_AGENCY_STATUS_SUSPENDED);
          break;
        case AgencyStatus::kRetired: a->set_status(ipn::v1::POLICY_AGENCY_STATUS_RETIRED); break;
      }
    }
    if (o.pia_approved) a->set_pia_approved(*o.pia_approved);
    if (o.rate_per_second) a->set_rate_per_second(*o.rate_per_second);
    if (o.burst) a->set_burst(*o.burst);
  }
  return Status::Ok();
}

std::vector<uint8_t> SourceDigest(const PolicySource& source) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 32);
  for (const char* name : kSourceFiles) {
    auto it = source.files.find(name);
    const std::string& contents = it == source.files.end() ? std::string() : it->second;
    uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(contents.size() >> (8 * i));
    crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(name),
                              std::string_view(name).size() + 1);
    crypto_generichash_update(&state, length, sizeof length);
    crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(contents.data()),
                              contents.size());
  }
  std::vector<uint8_t> digest(32);
  crypto_generichash_final(&state, digest.data(), digest.size());
  return digest;
}

}  // namespace

Result<PolicySource> ReadPolicySource(const std::string& dir) {
  PolicySource source;
  for (const char* name : kSourceFiles) {
    auto contents = ReadFile(dir + "/" + name);
    if (!contents.ok()) return contents.status().WithContext("policy source " + dir);
    source.files[name] = std::move(*contents);
  }
  return source;
}

Result<std::vector<uint8_t>> CompilePolicy(const PolicySource& source, uint64_t version,
                                           const std::map<std::string, AgencyOverride>& overrides) {
  if (version == 0) return Status::InvalidArgument("policy version must be at least 1");
  ipn::v1::PolicyBundle bundle;
  bundle.set_version(version);
  const std::vector<uint8_t> digest = SourceDigest(source);
  bundle.set_source_digest(digest.data(), digest.size());
  std::map<uint32_t, int> line_of_row;
  IPN_RETURN_IF_ERROR(ReadAgencies(source, &bundle));
  IPN_RETURN_IF_ERROR(ReadNamed(source, "businesses.csv", bundle.mutable_businesses()));
  IPN_RETURN_IF_ERROR(ReadNamed(source, "items.csv", bundle.mutable_items()));
  IPN_RETURN_IF_ERROR(ReadLinks(source, &bundle, &line_of_row));
  IPN_RETURN_IF_ERROR(ApplyOverrides(overrides, &bundle));

  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!bundle.SerializeToCodedStream(&coded)) {
      return Status::Internal("policy bundle could not be serialized");
    }
  }
  // The same validation the core applies at load, so a bad source fails here first.
  auto policy = Policy::FromBundleBytes(AsBytes(bytes));
  if (!policy.ok()) {
    std::string message = policy.status().message();
    constexpr std::string_view kRow = "links row ";
    if (message.rfind(kRow, 0) == 0) {
      const uint32_t row =
          static_cast<uint32_t>(std::strtoul(message.c_str() + kRow.size(), nullptr, 10));
      if (auto it = line_of_row.find(row); it != line_of_row.end()) {
        message = "links.csv line " + std::to_string(it->second) + " (" + message + ")";
      }
    }
    return Status::InvalidArgument(message);
  }
  return WrapUnsignedBundle(AsBytes(bytes));
}

}  // namespace ipn::policy
