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

struct EtcdLatencies {
  std::vector<double> put_us;            // a bare put of the batch's size
  std::vector<double> fenced_append_us;  // ReplicatedLog::Append: the core's commit, in etcd
};
// `n` of each, alternating, after a warm-up, each of `bytes` bytes.
Result<EtcdLatencies> MeasureEtcd(const std::vector<std::string>& endpoints, size_t bytes, int n);

// `kills` times: kills the leading site (SIGKILL), then calls `inquire` until it answers
// one inquiry, and restarts the killed site; returns each failover's milliseconds.
Result<std::vector<double>> MeasureFailovers(localnet::LocalNetwork& net, int kills,
                                             const std::function<bool()>& inquire);

}  // namespace ipn::bench
