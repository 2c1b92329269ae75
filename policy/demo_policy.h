// The demo policy: data/*.csv (agencies, businesses, items, permitted links), embedded in
// the binary at build time, so tools and tests need no data directory at run time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "policy/compiler.h"

namespace ipn::policy {

// The embedded source files (data/agencies.csv, businesses.csv, items.csv, links.csv).
PolicySource DemoPolicySource();

// The demo policy with per-agency overrides, compiled as `version` and signed with
// `admin_secret_key` (64-byte Ed25519): a bundle file ready for PolicyStore::Load.
Result<std::vector<uint8_t>> BuildDemoBundle(const std::map<std::string, AgencyOverride>& overrides,
                                             uint64_t version,
                                             std::span<const uint8_t> admin_secret_key);

// The demo policy itself (signed with a throwaway key and loaded like any bundle), for
// tools that need the directory's names and hours but no particular bundle.
Result<std::shared_ptr<const Policy>> LoadDemoPolicy();

}  // namespace ipn::policy
