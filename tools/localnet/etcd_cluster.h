// EtcdCluster: a real etcd cluster of separate processes on loopback (DESIGN.md §8: east,
// west and a witness), for tests, benchmarks and `ipn demo --replicated`. Each member has
// its own data directory and free ports; members can be killed and restarted on the same
// directory and ports, as a site would be.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tools/localnet/child_process.h"

namespace ipn::localnet {

struct EtcdClusterOptions {
  std::vector<std::string> names = {"east", "west", "witness"};
  std::string etcd = "/usr/bin/etcd";  // Debian's etcd-server
  // Raft timing: a leader is missed after `election_timeout_ms`; etcd's defaults (100 and
  // 1,000 ms) suit sites far apart, loopback can go faster. (Slower where the cores' own
  // leases matter more than etcd's elections: tests/e2e/failover_e2e_test.cc.)
  int heartbeat_ms = 50;
  int election_timeout_ms = 500;
};

// `n` distinct ports free on 127.0.0.1 now (the kernel's choice; a process must bind them
// soon after).
Result<std::vector<int>> FreeLoopbackPorts(size_t n);

class EtcdCluster {
 public:
  // Starts every member under `dir`/<name> and waits until the cluster accepts writes.
  static Result<std::unique_ptr<EtcdCluster>> Start(const std::string& dir,
                                                    EtcdClusterOptions options = {});
  ~EtcdCluster();

  size_t size() const { return members_.size(); }
  // "127.0.0.1:port" of every member, in `names` order.
  std::vector<std::string> endpoints() const;
  pid_t pid(size_t i) const { return members_[i].process.pid(); }
  bool running(size_t i) const { return members_[i].process.running(); }

  void Kill(size_t i);       // SIGKILL: a crashed machine
  Status Restart(size_t i);  // again, on its directory and ports
  // Waits until a write through every running member's endpoints succeeds.
  Status WaitWritable(std::chrono::milliseconds within) const;

 private:
  struct Member {
    std::string name;
    std::string dir;
    int client_port = 0;
    int peer_port = 0;
    ChildProcess process;
  };
  EtcdCluster(std::string dir, EtcdClusterOptions options)
      : dir_(std::move(dir)), options_(std::move(options)) {}
  Status Launch(Member& m);

  std::string dir_;
  EtcdClusterOptions options_;
  std::string token_;
  std::string initial_cluster_;
  std::vector<Member> members_;
};

}  // namespace ipn::localnet
