// ipn_bench_broker --replicated: etcd's own latency and the failover time.
#include "bench/broker/replicated_bench.h"

#include <chrono>
#include <thread>

#include "replica/etcd_client.h"
#include "replica/replicated_log.h"

namespace ipn::bench {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Result<EtcdLatencies> MeasureEtcd(const std::vector<std::string>& endpoints, size_t bytes, int n) {
  replica::EtcdOptions o;
  o.endpoints = endpoints;
  auto etcd = replica::EtcdClient::Connect(o);
  if (!etcd.ok()) return etcd.status();
  // A fence of its own (a key whose creation revision the appends compare against), and a
  // log under its own prefix: the core's append, in shape and size, beside a bare put.
  const std::string fence_key = "/ipn/bench/fence";
  Result<int64_t> fenced = (*etcd)->Put(fence_key, "bench", 0);
  if (!fenced.ok()) return fenced.status();
  const replica::Fence fence{fence_key, *fenced};
  replica::ReplicatedLog log(etcd->get(), "/ipn/bench/log/");
  const std::string value(bytes, 'b');
  EtcdLatencies out;
  auto us_since = [](Clock::time_point t0) {
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  };
  // Alternating, so both see the same moments of this shared machine.
  for (int i = 0; i < n + 50; ++i) {
    auto t0 = Clock::now();
    Result<int64_t> put = (*etcd)->Put("/ipn/bench/put", value, 0);
    if (!put.ok()) return put.status();
    if (i >= 50) out.put_us.push_back(us_since(t0));
    t0 = Clock::now();
    Result<int64_t> appended = log.Append(fence, static_cast<uint64_t>(i), value);
    if (!appended.ok()) return appended.status();
    if (i >= 50) out.fenced_append_us.push_back(us_since(t0));
  }
  (void)(*etcd)->DeleteRange("/ipn/bench/", replica::PrefixEnd("/ipn/bench/"));
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
