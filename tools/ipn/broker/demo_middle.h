// The demo's middle-server platform (DESIGN.md §9, docs/middle.md): the municipality and
// the pension service run no program of their own but are two tenants of one
// `ipn-middle serve`. Before it serves, each tenant's copies (demo_copies.h) are written to
// a CSV and registered with `ipn-middle import`; the platform then binds the symbols the
// registry issues them (the person reference being their internal person number) and
// answers every inquiry forwarded to them from those copies. After the run the provision
// records say how many it answered, and how.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "tools/localnet/child_process.h"
#include "tools/localnet/local_network.h"

namespace ipn::records {
class RecordStore;
}

namespace ipn::cli {

// The agencies the platform serves: the municipality and the pension service.
std::vector<std::string> DemoPlatformTenants();

struct MiddleSummary {
  struct Answers {  // one tenant's answers as provider, from the provision records
    uint64_t provided = 0;
    uint64_t non_disclosure = 0;  // of those provided
    uint64_t not_held = 0;        // the tenant's answer, not the core's "never issued"
    uint64_t failed = 0;
  };
  std::vector<std::string> tenants;
  std::map<std::string, size_t> copies_imported;  // tenant -> rows `ipn-middle import` registered
  std::map<std::string, Answers> answers;         // tenant -> its answers
  int platform_pid = -1;
  int other_programs = -1;         // programs of the tenants' own that ran (-1: not checked)
  int64_t platform_answered = -1;  // the platform's own count, from its log (-1: unknown)

  uint64_t answered() const;  // provided and not held, every tenant
  nlohmann::json ToJson() const;
  std::string ToText() const;
};

class DemoPlatform {
 public:
  // Writes and imports the tenants' copies for the demo's first `residents` residents,
  // then starts `ipn-middle` (in `bin_dir`) against the tenants' nodes and returns once it
  // serves them (its READY line): symbols issued from then on are bound.
  static Result<std::unique_ptr<DemoPlatform>> Start(const localnet::LocalNetwork& net,
                                                     const std::string& bin_dir, size_t residents,
                                                     MiddleSummary* summary);

  // Notes which programs of the tenants' own the network runs (none), then stops the
  // platform. An error if it had stopped serving (it exits non-zero), unless the run was
  // interrupted (a Ctrl-C reaches it as well).
  Status Stop(const localnet::LocalNetwork& net, bool interrupted, MiddleSummary* summary);

 private:
  DemoPlatform() = default;
  std::string dir_;
  localnet::ChildProcess serve_;
};

// After the network stopped: the tenants' answers, from every provision record naming one
// of them as provider.
Status CountPlatformAnswers(const records::RecordStore& store, MiddleSummary* summary);

// Runs a tool to its end, its stdout to `out`, its stderr appended to `err`; its exit code.
Result<int> RunToCompletion(const std::vector<std::string>& argv, const std::string& out,
                            const std::string& err);

}  // namespace ipn::cli
