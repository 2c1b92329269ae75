// The broker on two sites over etcd (issue #13, `ipn_bench_broker --replicated`): a bare
// etcd put of one commit batch's size, and failovers timed from the leader's kill to the
// first inquiry answered after it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tools/localnet/local_network.h"

namespace ipn::bench {

// Latencies (µs) of `n` sequential etcd puts of `bytes` bytes each, after a warm-up.
Result<std::vector<double>> EtcdPutLatencies(const std::vector<std::string>& endpoints,
                                             size_t bytes, int n);

// `kills` times: kills the leading site (SIGKILL), then calls `inquire` until it answers
// one inquiry, and restarts the killed site; returns each failover's milliseconds.
Result<std::vector<double>> MeasureFailovers(localnet::LocalNetwork& net, int kills,
                                             const std::function<bool()>& inquire);

}  // namespace ipn::bench
