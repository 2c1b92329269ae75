// Policy: one immutable, verified version of the agency directory and the permitted-link
// list (照会許可照合リスト), and the decision "may agency X ask agency Y for item Z for
// business W at time T?" with the reason. Built by PolicyStore from a signed bundle.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "policy/decision.h"

namespace ipn::policy {

enum class AgencyStatus { kActive, kSuspended, kRetired };

// One row of the agency directory.
struct Agency {
  std::string code, agency_class, name_ja, name_en;
  std::optional<std::array<uint8_t, 32>> curve_public_key;  // its node's CurveZMQ key
  std::string endpoint;                                     // where its node accepts answers
  AgencyStatus status = AgencyStatus::kActive;
  bool pia_approved = false;   // privacy impact assessment approved
  double rate_per_second = 0;  // token bucket for its inquiries
  double burst = 0;
  std::string hours;  // declared office hours (JST), informational
};

// A business (事務) or an item (特定個人情報の項目) with its names.
struct NamedCode {
  std::string code, name_ja, name_en;
};

// One row of the permitted-link list, as written in the source.
struct PermittedLink {
  int row = 0;                                     // 1-based data row of links.csv
  std::string inquirer, business, provider, item;  // inquirer/provider: agency code or class
  bool inquirer_is_class = false, provider_is_class = false;
  std::string effective_from, effective_to;  // YYYY-MM-DD (JST); effective_to empty = open
  int64_t from_unix_us = 0;                  // inclusive: effective_from 00:00 JST
  int64_t to_unix_us = 0;  // exclusive: the day after effective_to, 00:00 JST; 0 = open
  std::string legal_basis, note;
};

// Classes that are never parties to a permitted link: the disclosure portal, the
// resident registry link (which may not inquire) and the oversight commission.
bool IsNonLinkClass(std::string_view agency_class);

// Always owned by a shared_ptr (FromBundleBytes): a Decision keeps its Policy alive through
// shared_from_this(), so that Explain() can read the names after a reload.
class Policy : public std::enable_shared_from_this<Policy> {
 public:
  // Builds a Policy from the serialized ipn.v1.PolicyBundle (the bytes a SignedPolicyBundle
  // signs). Does NOT verify any signature — PolicyStore does that first. Refuses a bundle
  // whose rows name an unknown agency, class, business or item, or are otherwise invalid.
  static Result<std::shared_ptr<const Policy>> FromBundleBytes(std::span<const uint8_t> bytes);

  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  uint64_t version() const { return version_; }
  const std::vector<uint8_t>& source_digest() const { return source_digest_; }

  const Agency* FindAgency(std::string_view code) const;
  const Agency* FindAgencyByKey(std::span<const uint8_t> curve_public_key) const;
  const std::vector<Agency>& agencies() const { return agencies_; }
  const NamedCode* FindBusiness(std::string_view code) const;
  const NamedCode* FindItem(std::string_view code) const;
  const std::vector<NamedCode>& businesses() const { return businesses_; }
  const std::vector<NamedCode>& items() const { return items_; }
  const std::vector<PermittedLink>& links() const { return links_; }

  // The decision at `at_unix_us` (UTC microseconds). Hash lookups only, no allocation (the
  // explanation is formatted by Decision::Explain() when asked for); no rate limit.
  Decision Check(std::string_view inquirer, std::string_view business, std::string_view provider,
                 std::string_view item, int64_t at_unix_us) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  Policy() = default;
  Status Build(std::span<const uint8_t> bytes);
  Status AddLink(PermittedLink link);

  uint64_t version_ = 0;
  std::vector<uint8_t> source_digest_;
  std::vector<Agency> agencies_;
  std::vector<uint32_t> agency_class_id_;    // per agency: index into class ids
  std::vector<uint8_t> agency_not_a_party_;  // per agency: IsNonLinkClass of its class
  StringMap<uint32_t> agency_index_;
  StringMap<uint32_t> agency_by_key_;  // 32 raw key bytes -> agency index
  StringMap<uint32_t> class_id_;       // class name -> id (ids follow the agency ids)
  std::vector<NamedCode> businesses_, items_;
  StringMap<uint32_t> business_index_, item_index_;
  std::vector<PermittedLink> links_;
  // (inquirer party, business, provider party, item) packed in 64 bits -> link indices in
  // row order. A party is an agency index or a class id.
  std::unordered_map<uint64_t, std::vector<uint32_t>> link_index_;
};

}  // namespace ipn::policy
