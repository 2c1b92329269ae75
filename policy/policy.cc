// Policy: validation of a bundle into hash indexes, and the decision.
#include "policy/policy.h"

#include <cmath>
#include <set>
#include <utility>

#include "ipn/v1/policy.pb.h"
#include "policy/jst_date.h"

namespace ipn::policy {
namespace {

constexpr size_t kMaxCodeLength = 64;
constexpr uint32_t kMaxIds = 0xFFFF;  // parties, businesses and items each fit in 16 bits

bool IsValidCode(std::string_view code) {
  if (code.empty() || code.size() > kMaxCodeLength) return false;
  for (char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

uint64_t LinkKey(uint32_t inquirer, uint32_t business, uint32_t provider, uint32_t item) {
  return (uint64_t{inquirer} << 48) | (uint64_t{business} << 32) | (uint64_t{provider} << 16) |
         uint64_t{item};
}

}  // namespace

bool IsNonLinkClass(std::string_view agency_class) {
  return agency_class == "portal" || agency_class == "registry" || agency_class == "commission";
}

Result<std::shared_ptr<const Policy>> Policy::FromBundleBytes(std::span<const uint8_t> bytes) {
  std::shared_ptr<Policy> policy(new Policy());
  IPN_RETURN_IF_ERROR(policy->Build(bytes));
  return std::shared_ptr<const Policy>(std::move(policy));
}

Status Policy::Build(std::span<const uint8_t> bytes) {
  ipn::v1::PolicyBundle bundle;
  if (bytes.empty() || bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !bundle.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::InvalidArgument("policy bundle contents are not a parseable PolicyBundle");
  }
  if (bundle.version() == 0) return Status::InvalidArgument("policy bundle has no version");
  version_ = bundle.version();
  source_digest_.assign(bundle.source_digest().begin(), bundle.source_digest().end());
  // Link keys pack ids in 16 bits: agencies and classes (at most one class per agency)
  // share one id space.
  if (2 * static_cast<int64_t>(bundle.agencies_size()) > kMaxIds ||
      bundle.businesses_size() > static_cast<int64_t>(kMaxIds) ||
      bundle.items_size() > static_cast<int64_t>(kMaxIds)) {
    return Status::InvalidArgument("policy bundle has too many agencies, businesses or items");
  }

  // The directory.
  agencies_.reserve(bundle.agencies_size());
  for (const auto& a : bundle.agencies()) {
    const std::string where = "agency " + EchoCode(a.code());
    if (!IsValidCode(a.code())) return Status::InvalidArgument(where + ": invalid agency code");
    if (!IsValidCode(a.agency_class())) {
      return Status::InvalidArgument(where + ": invalid or missing class");
    }
    Agency agency;
    agency.code = a.code();
    agency.agency_class = a.agency_class();
    agency.name_ja = a.name_ja();
    agency.name_en = a.name_en();
    agency.hours = a.hours();
    agency.endpoint = a.endpoint();
    agency.pia_approved = a.pia_approved();
    switch (a.status()) {
      case ipn::v1::POLICY_AGENCY_STATUS_ACTIVE: agency.status = AgencyStatus::kActive; break;
      case ipn::v1::POLICY_AGENCY_STATUS_SUSPENDED: agency.status = AgencyStatus::kSuspended; break;
      case ipn::v1::POLICY_AGENCY_STATUS_RETIRED: agency.status = AgencyStatus::kRetired; break;
      default: return Status::InvalidArgument(where + ": status missing or unknown");
    }
    if (!std::isfinite(a.rate_per_second()) || a.rate_per_second() <= 0 ||
        !std::isfinite(a.burst()) || a.burst() < 1) {
      return Status::InvalidArgument(where + ": rate_per_second must be > 0 and burst >= 1");
    }
    agency.rate_per_second = a.rate_per_second();
    agency.burst = a.burst();
    if (!a.curve_public_key().empty()) {
      if (a.curve_public_key().size() != 32) {
        return Status::InvalidArgument(where + ": curve_public_key must be 32 bytes");
      }
      std::array<uint8_t, 32> key;
      std::copy(a.curve_public_key().begin(), a.curve_public_key().end(), key.begin());
      agency.curve_public_key = key;
      if (!agency_by_key_.emplace(a.curve_public_key(), agencies_.size()).second) {
        return Status::InvalidArgument(where + ": curve_public_key already used by another agency");
      }
    }
    if (agency.endpoint.size() > 256) return Status::InvalidArgument(where + ": endpoint too long");
    if (!agency_index_.emplace(agency.code, agencies_.size()).second) {
      return Status::InvalidArgument(where + ": listed twice");
    }
    agencies_.push_back(std::move(agency));
  }
  const auto agency_count = static_cast<uint32_t>(agencies_.size());
  for (const Agency& agency : agencies_) {
    if (agency_index_.count(agency.agency_class) != 0) {
      return Status::InvalidArgument("class " + EchoCode(agency.agency_class) +
                                     " is also an agency code; classes and codes must differ");
    }
    auto [it, inserted] = class_id_.try_emplace(agency.agency_class, 0);
    if (inserted) it->second = agency_count + static_cast<uint32_t>(class_id_.size() - 1);
    agency_class_id_.push_back(it->second);
    agency_not_a_party_.push_back(IsNonLinkClass(agency.agency_class) ? 1 : 0);
  }

  // Businesses and items.
  auto add_named = [](const auto& list, const char* what, std::vector<NamedCode>* out,
                      StringMap<uint32_t>* index) -> Status {
    for (const auto& n : list) {
      if (!IsValidCode(n.code())) {
        return Status::InvalidArgument(std::string("invalid ") + what + " code " +
                                       EchoCode(n.code()));
      }
      if (!index->emplace(n.code(), out->size()).second) {
        return Status::InvalidArgument(std::string(what) + " " + EchoCode(n.code()) +
                                       " listed twice");
      }
      out->push_back(NamedCode{n.code(), n.name_ja(), n.name_en()});
    }
    return Status::Ok();
  };
  IPN_RETURN_IF_ERROR(add_named(bundle.businesses(), "business", &businesses_, &business_index_));
  IPN_RETURN_IF_ERROR(add_named(bundle.items(), "item", &items_, &item_index_));

  // The permitted links.
  std::set<uint32_t> rows;
  for (const auto& l : bundle.links()) {
    PermittedLink link;
    link.row = static_cast<int>(l.row());
    if (l.row() == 0 || l.row() > INT32_MAX || !rows.insert(l.row()).second) {
      return Status::InvalidArgument("link row number " + std::to_string(l.row()) +
                                     " is missing or repeated");
    }
    link.inquirer = l.inquirer();
    link.business = l.business();
    link.provider = l.provider();
    link.item = l.item();
    link.effective_from = l.effective_from();
    link.effective_to = l.effective_to();
    link.legal_basis = l.legal_basis();
    link.note = l.note();
    IPN_RETURN_IF_ERROR(AddLink(std::move(link)));
  }
  return Status::Ok();
}

Status Policy::AddLink(PermittedLink link) {
  const std::string where = "links row " + std::to_string(link.row);
  // Resolves an inquirer or provider: an agency code or a class, never a non-link class.
  auto party = [&](const std::string& name, const char* role, bool* is_class,
                   uint32_t* id) -> Status {
    if (auto it = agency_index_.find(name); it != agency_index_.end()) {
      *is_class = false;
      *id = it->second;
      const Agency& a = agencies_[it->second];
      if (IsNonLinkClass(a.agency_class)) {
        return Status::InvalidArgument(where + ": " + role + " " + EchoCode(name) +
                                       " is of class " + a.agency_class +
                                       ", which is not a party to links");
      }
      return Status::Ok();
    }
    if (auto it = class_id_.find(name); it != class_id_.end()) {
      *is_class = true;
      *id = it->second;
      if (IsNonLinkClass(name)) {
        return Status::InvalidArgument(where + ": " + role + " class " + EchoCode(name) +
                                       " is not a party to links");
      }
      return Status::Ok();
    }
    return Status::InvalidArgument(where + ": " + role + " " + EchoCode(name) +
                                   " is neither a known agency nor a known class");
  };
  uint32_t inquirer = 0, provider = 0;
  IPN_RETURN_IF_ERROR(party(link.inquirer, "inquirer", &link.inquirer_is_class, &inquirer));
  IPN_RETURN_IF_ERROR(party(link.provider, "provider", &link.provider_is_class, &provider));
  auto business = business_index_.find(link.business);
  if (business == business_index_.end()) {
    return Status::InvalidArgument(where + ": unknown business " + EchoCode(link.business));
  }
  auto item = item_index_.find(link.item);
  if (item == item_index_.end()) {
    return Status::InvalidArgument(where + ": unknown item " + EchoCode(link.item));
  }
  auto from = JstDayStartMicros(link.effective_from);
  if (!from.ok()) return from.status().WithContext(where + ": effective_from");
  link.from_unix_us = *from;
  if (!link.effective_to.empty()) {
    auto to = JstDayStartMicros(link.effective_to);
    if (!to.ok()) return to.status().WithContext(where + ": effective_to");
    if (*to < *from) {
      return Status::InvalidArgument(where + ": effective_to is before effective_from");
    }
    link.to_unix_us = *to + kMicrosPerDay;
  }

  const auto index = static_cast<uint32_t>(links_.size());
  link_index_[LinkKey(inquirer, business->second, provider, item->second)].push_back(index);
  links_.push_back(std::move(link));
  return Status::Ok();
}

const Agency* Policy::FindAgency(std::string_view code) const {
  auto it = agency_index_.find(code);
  return it == agency_index_.end() ? nullptr : &agencies_[it->second];
}

const Agency* Policy::FindAgencyByKey(std::span<const uint8_t> curve_public_key) const {
  if (curve_public_key.size() != 32) return nullptr;
  auto it = agency_by_key_.find(std::string_view(
      reinterpret_cast<const char*>(curve_public_key.data()), curve_public_key.size()));
  return it == agency_by_key_.end() ? nullptr : &agencies_[it->second];
}

const NamedCode* Policy::FindBusiness(std::string_view code) const {
  auto it = business_index_.find(code);
  return it == business_index_.end() ? nullptr : &businesses_[it->second];
}

const NamedCode* Policy::FindItem(std::string_view code) const {
  auto it = item_index_.find(code);
  return it == item_index_.end() ? nullptr : &items_[it->second];
}

Decision Policy::Check(std::string_view inquirer, std::string_view business,
                       std::string_view provider, std::string_view item, int64_t at_unix_us) const {
  using Step = Decision::Step;
  Decision d;
  d.policy_version = version_;
  d.at_unix_us_ = at_unix_us;
  d.policy_ = shared_from_this();
  // Every exit names the check that decided; Explain() turns it into text later. Moved out
  // (not copied), so the shared_ptr costs one atomic increment per decision, not two.
  auto deny = [&d](DenyReason reason, Step step) {
    d.reason = reason;
    d.step_ = step;
    return std::move(d);
  };
  auto inq = agency_index_.find(inquirer);
  if (inq == agency_index_.end()) {
    d.KeepEcho(inquirer);
    return deny(DenyReason::kUnknownInquirer, Step::kUnknownInquirer);
  }
  d.inquirer_ = inq->second;
  d.inquirer_known_ = true;
  const Agency& asker = agencies_[inq->second];
  if (asker.status != AgencyStatus::kActive) {
    return deny(DenyReason::kInquirerNotActive, Step::kInquirerNotActive);
  }
  if (!asker.pia_approved) return deny(DenyReason::kNoAssessment, Step::kInquirerNotAssessed);
  auto prov = agency_index_.find(provider);
  if (prov == agency_index_.end()) {
    d.KeepEcho(provider);
    return deny(DenyReason::kUnknownProvider, Step::kUnknownProvider);
  }
  d.provider_ = prov->second;
  const Agency& holder = agencies_[prov->second];
  if (holder.status != AgencyStatus::kActive) {
    return deny(DenyReason::kProviderNotActive, Step::kProviderNotActive);
  }
  if (!holder.pia_approved) return deny(DenyReason::kNoAssessment, Step::kProviderNotAssessed);
  auto bus = business_index_.find(business);
  if (bus == business_index_.end()) {
    d.KeepEcho(business);
    return deny(DenyReason::kUnknownBusiness, Step::kUnknownBusiness);
  }
  d.business_ = bus->second;
  auto itm = item_index_.find(item);
  if (itm == item_index_.end()) {
    d.KeepEcho(item);
    return deny(DenyReason::kUnknownItem, Step::kUnknownItem);
  }
  d.item_ = itm->second;
  if (agency_not_a_party_[inq->second] != 0) {
    return deny(DenyReason::kNoSuchLink, Step::kInquirerNotAParty);
  }
  if (agency_not_a_party_[prov->second] != 0) {
    return deny(DenyReason::kNoSuchLink, Step::kProviderNotAParty);
  }

  // A row may name either party by agency or by class: four keys, each a list in row order.
  // The first row in effect allows; otherwise the first row found out of its period is the
  // one the refusal cites.
  const uint32_t inquirer_ids[2] = {inq->second, agency_class_id_[inq->second]};
  const uint32_t provider_ids[2] = {prov->second, agency_class_id_[prov->second]};
  bool any_out_of_period = false;
  for (uint32_t i : inquirer_ids) {
    for (uint32_t p : provider_ids) {
      auto it = link_index_.find(LinkKey(i, bus->second, p, itm->second));
      if (it == link_index_.end()) continue;
      for (const uint32_t index : it->second) {
        const PermittedLink& link = links_[index];
        if (at_unix_us >= link.from_unix_us &&
            (link.to_unix_us == 0 || at_unix_us < link.to_unix_us)) {
          d.allowed = true;
          d.link_ = index;
          d.row = link.row;
          return deny(DenyReason::kNone, Step::kAllowed);
        }
        if (!any_out_of_period) {
          any_out_of_period = true;
          d.link_ = index;
        }
      }
    }
  }
  if (any_out_of_period) {
    d.row = links_[d.link_].row;
    return deny(DenyReason::kOutsideEffectivePeriod, Step::kOutsideEffectivePeriod);
  }
  return deny(DenyReason::kNoSuchLink, Step::kNoSuchLink);
}

}  // namespace ipn::policy
