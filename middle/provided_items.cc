// The items each tenant may provide (see provided_items.h).
#include "middle/provided_items.h"

namespace ipn::middle {

ItemBusinesses ProvidedItemBusinesses(const policy::Policy& policy,
                                      const std::vector<std::string>& tenants) {
  ItemBusinesses out;
  for (const std::string& tenant : tenants) {
    auto& items = out[tenant];  // an agency the policy lacks: none
    const policy::Agency* agency = policy.FindAgency(tenant);
    if (agency == nullptr) continue;
    for (const policy::PermittedLink& link : policy.links()) {
      const bool provides =
          link.provider_is_class ? link.provider == agency->agency_class : link.provider == tenant;
      if (provides) items[link.item].insert(link.business);
    }
  }
  return out;
}

std::map<std::string, std::set<std::string>> ProvidedItems(
    const policy::Policy& policy, const std::vector<std::string>& tenants) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [tenant, items] : ProvidedItemBusinesses(policy, tenants)) {
    std::set<std::string>& names = out[tenant];
    for (const auto& [item, businesses] : items) names.insert(item);
  }
  return out;
}

}  // namespace ipn::middle
