// The scripted demo: issue symbols for sample residents through the registry link, run
// a mix of lawful inquiries, refused ones and a provider outage through the agencies'
// nodes, and summarise what happened. Used by `ipn demo` over a LocalNetwork.
#pragma once

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "tools/localnet/local_network.h"

namespace ipn::cli {

struct ScenarioResult {
  std::string name;
  std::string inquirer, provider, business, item;
  int sent = 0;
  std::map<std::string, int> outcomes;  // "PROVIDED", "REFUSED: NO_SUCH_LINK", ...
};

struct DemoSummary {
  int residents = 0;
  int symbols_issued = 0;
  std::vector<ScenarioResult> scenarios;
  uint64_t records = 0;
  std::string records_verification;
  double seconds = 0;
  std::string portal_url;        // the disclosure portal, while the network runs
  std::string citizen_card;      // the demo citizen's card (token label)
  std::string citizen_card_pin;  // its PIN (a demo's, printed)
  std::string softhsm_conf;      // where the card lives (SOFTHSM2_CONF)
  int citizen_index = -1;        // which resident the demo citizen is
  nlohmann::json ToJson() const;
  std::string ToTable() const;     // the scenarios and the totals
  std::string PortalLine() const;  // where the portal is and how the citizen signs in
};

// Runs the scenarios against a started network. `codes` are the residents' codes (wiped
// by the caller afterwards). Stops early, with an error, when `stop` is set.
Status RunDemoScenarios(localnet::LocalNetwork& net, const std::vector<std::string>& codes,
                        const std::atomic<bool>& stop, bool progress, DemoSummary* summary);

// The agencies the demo starts, and the one it suspends. The municipality and the pension
// service run no program of their own: the middle-server platform serves their nodes
// (demo_middle.h).
std::vector<localnet::AgencySpec> DemoAgencies();
std::vector<std::string> DemoSuspended();

// The internal person number every demo agency knows resident `index` (0-based) by: the
// person reference its symbols are issued with, and its copies' person.
std::string DemoPersonRef(size_t index);

}  // namespace ipn::cli
