// The items each tenant may provide (see provided_items.h).
#include "middle/provided_items.h"

namespace ipn::middle {

std::map<std::string, std::set<std::string>> ProvidedItems(
    const policy::Policy& policy, const std::vector<std::string>& tenants) {
  std::map<std::string, std::set<std::string>> out;
  for (const std::string& tenant : tenants) {
    std::set<std::string>& items = out[tenant];  // an agency the policy lacks: none
    const policy::Agency* agency = policy.FindAgency(tenant);
    if (agency == nullptr) continue;
    for (const policy::PermittedLink& link : policy.links()) {
      const bool provides =
          link.provider_is_class ? link.provider == agency->agency_class : link.provider == tenant;
      if (provides) items.insert(link.item);
    }
  }
  return out;
}

}  // namespace ipn::middle
