// `ipn demo --replicated`: the core on two sites plus an etcd witness (DESIGN.md §8), and
// mid-run the leading core killed — the demo measures how long until inquiries are
// answered again and reconciles both sites' logs against what the inquirer was told.
#pragma once

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "tools/localnet/local_network.h"

namespace ipn::cli {

struct FailoverSummary {
  std::string killed_site;
  std::string new_leader;
  double failover_ms = 0;     // from the kill to the first inquiry answered after it
  int answered = 0;           // inquiries the pension service was told the answer of
  uint64_t records_lost = 0;  // of those, missing from either site's log (must be 0)
  uint64_t east_records = 0, west_records = 0;
  bool heads_match = false;       // both logs the same size with the same root hash
  std::vector<std::string> told;  // request ids the inquirer heard the end of

  nlohmann::json ToJson() const;
  std::string ToText() const;
};

// While the network runs: the pension service asks the municipality about one resident
// (`code`), one inquiry at a time; after some answers the leading core is killed (and
// started again, as a follower), and the inquiries go on until some more are answered.
Status RunFailoverPhase(localnet::LocalNetwork& net, const std::string& code,
                        const std::atomic<bool>& stop, FailoverSummary* out);

// After the network stopped: every inquiry the pension service was told the answer of
// must be on both sites' logs, and the logs must be the same.
Status ReconcileSites(const localnet::LocalNetwork& net, FailoverSummary* out);

}  // namespace ipn::cli
