// FloorNetwork: the broker's topology with no work in it — the latency floor the broker
// is judged against (issue #11). Five processes, each one poll loop: the inquirer's agency
// system (this process), the two interface nodes, the provider's agency system, and the
// core. CurveZMQ on the three tcp hops (inquirer node -> core, core -> provider node,
// provider node -> inquirer node, and back from the core on the first connection), ipc on
// the four local legs. The core forwards at once, then appends 300 bytes to a file and
// fdatasyncs it before it releases the decision; the inquirer's node releases the answer
// when it holds both the decision and the answer. No protobuf, no policy, no symbols, no
// records, no logging.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ipn::bench {

// One sequential round trip per sample, in microseconds, after `warmup` discarded ones.
// `self_exe` is this binary (it runs the other roles via RunFloorRole); `dir` a scratch
// directory for keys, sockets and the core's file.
Result<std::vector<double>> MeasureFloor(const std::string& self_exe, const std::string& dir,
                                         int samples, int warmup);

// The body of a role process: "core", "inquirer-node", "provider-node", "provider-agency".
// `args` are the role's key=value arguments. Returns the process's exit code.
int RunFloorRole(const std::string& role, const std::vector<std::string>& args);

}  // namespace ipn::bench
