// Which items each tenant may provide, from the permitted-link list: the items of every
// link whose provider is the tenant's agency code, or the class its agency belongs to. The
// middle server registers copies of these items only (MiddleApiOptions.provided_items): a
// copy of anything else could never be asked for, and is most likely a mistake in a file.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace ipn::middle {

std::map<std::string, std::set<std::string>> ProvidedItems(const policy::Policy& policy,
                                                           const std::vector<std::string>& tenants);

// The same, with the businesses each item is provided for: tenant -> item -> businesses.
// A registrar whose account lists businesses registers copies only of the items provided
// for one of them (DESIGN.md §9: staff limited to their business codes).
using ItemBusinesses = std::map<std::string, std::map<std::string, std::set<std::string>>>;
ItemBusinesses ProvidedItemBusinesses(const policy::Policy& policy,
                                      const std::vector<std::string>& tenants);

}  // namespace ipn::middle
