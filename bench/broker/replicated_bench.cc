// ipn_bench_broker --replicated: etcd's own latency and the failover time.
#include "bench/broker/replicated_bench.h"

#include <chrono>
#include <thread>

#include "replica/etcd_client.h"

namespace ipn::bench {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Result<std::vector<double>> EtcdPutLatencies(const std::vector<std::string>& endpoints,
                                             size_t bytes, int n) {
  replica::EtcdOptions o;
  o.endpoints = endpoints;
  auto etcd = replica::EtcdClient::Connect(o);
  if (!etcd.ok()) return etcd.status();
  const std::string value(bytes, 'b');
  std::vector<double> out;
  for (int i = 0; i < n + 50; ++i) {
    const auto t0 = Clock::now();
    Result<int64_t> put = (*etcd)->Put("/ipn/bench/put", value, 0);
    if (!put.ok()) return put.status();
    if (i >= 50)
      out.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  (void)(*etcd)->DeleteRange("/ipn/bench/put", "");
  return out;
}

Result<std::vector<double>> MeasureFailovers(localnet::LocalNetwork& net, int kills,
                                             const std::function<bool()>& inquire) {
  std::vector<double> out;
  for (int k = 0; k < kills; ++k) {
    int leader = -1;
    for (auto until = Clock::now() + std::chrono::seconds(20); leader < 0;) {
      if (Clock::now() > until) return Status::Unavailable("no site leads");
      leader = net.LeadingSite();
      if (leader < 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!inquire()) return Status::Unavailable("the leader answers no inquiry before the kill");
    const auto killed = Clock::now();
    net.KillSite(static_cast<size_t>(leader));
    while (!inquire()) {
      if (Clock::now() - killed > std::chrono::seconds(60)) {
        return Status::Unavailable("no inquiry answered within 60 s of the leader's kill");
      }
    }
    out.push_back(std::chrono::duration<double, std::milli>(Clock::now() - killed).count());
    IPN_RETURN_IF_ERROR(net.StartSite(static_cast<size_t>(leader)));
  }
  return out;
}

}  // namespace ipn::bench
