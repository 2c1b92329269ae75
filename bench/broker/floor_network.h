// FloorNetwork: the broker's topology with no work in it — the latency floor the broker
// is judged against (issue #11). Five processes, each one poll loop: the inquirer's agency
// system (this process), the two interface nodes, the provider's agency system, and the
// core. CurveZMQ on the three tcp hops (inquirer node -> core, core -> provider node,
// provider node -> inquirer node, and back from the core on the first connection), ipc on
// the four local legs. The core forwards at once, then appends 300 bytes to a file and
// fdatasyncs it before it releases the decision; the inquirer's node releases the answer
// when it holds both the decision and the answer. No protobuf, no policy, no symbols, no
// records, no logging.
//
// The decision's path alone (FloorPath::kDecisionOnly) is the same five processes carrying
// one message from the inquirer's system to the core and back, with no forward and no
// append: the transport every decision pays whatever the core does, and so, with a commit's
// cost added, a lower bound on any broker's latency on this machine (issue #13).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace ipn::bench {

enum class FloorPath {
  kWhole,         // forward, durable append, decision and answer meet at the inquirer's node
  kDecisionOnly,  // inquirer's system -> its node -> core -> its node -> system, nothing else
};

class FloorNetwork {
 public:
  // Starts the four role processes (`self_exe` is this binary; it runs them via
  // RunFloorRole) with keys, sockets and the core's file under `dir`.
  static Result<std::unique_ptr<FloorNetwork>> Start(const std::string& self_exe,
                                                     const std::string& dir);
  ~FloorNetwork();
  // One inquiry through the floor network, start to answer, in microseconds.
  Result<double> RoundTrip(FloorPath path = FloorPath::kWhole);

 private:
  FloorNetwork();
  struct Parts;
  std::unique_ptr<Parts> parts_;
  uint64_t next_ = 0;
};

// The body of a role process: "core", "inquirer-node", "provider-node", "provider-agency".
// `args` are the role's key=value arguments. Returns the process's exit code.
int RunFloorRole(const std::string& role, const std::vector<std::string>& args);

}  // namespace ipn::bench
