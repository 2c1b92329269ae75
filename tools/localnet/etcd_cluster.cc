// EtcdCluster: etcd members as child processes, on free loopback ports.
#include "tools/localnet/etcd_cluster.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/encoding.h"
#include "common/secret.h"
#include "replica/etcd_client.h"

namespace ipn::localnet {
namespace {

std::string PeerUrl(int port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

}  // namespace

// All held open until every one is chosen (so they differ); closed before anyone binds.
Result<std::vector<int>> FreeLoopbackPorts(size_t n) {
  std::vector<int> fds;
  std::vector<int> ports;
  Status status;
  for (size_t i = 0; i < n && status.ok(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      status = Status::IoError("socket failed");
      break;
    }
    fds.push_back(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      status = Status::IoError("no free loopback port");
      break;
    }
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) close(fd);
  if (!status.ok()) return status;
  return ports;
}

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(const std::string& dir,
                                                        EtcdClusterOptions options) {
  if (options.names.empty()) return Status::InvalidArgument("an etcd cluster needs members");
  if (access(options.etcd.c_str(), X_OK) != 0) {
    return Status::NotFound(options.etcd + " is missing: run scripts/setup (etcd-server)");
  }
  std::unique_ptr<EtcdCluster> c(new EtcdCluster(dir, std::move(options)));
  Result<std::vector<int>> ports = FreeLoopbackPorts(2 * c->options_.names.size());
  if (!ports.ok()) return ports.status();
  SecretBytes token = SecretBytes::Random(8);
  c->token_ = "ipn-" + HexEncode({token.data(), token.size()});
  for (size_t i = 0; i < c->options_.names.size(); ++i) {
    Member m;
    m.name = c->options_.names[i];
    m.dir = dir + "/" + m.name;
    m.client_port = (*ports)[2 * i];
    m.peer_port = (*ports)[2 * i + 1];
    c->initial_cluster_ += (i ? "," : "") + m.name + "=" + PeerUrl(m.peer_port);
    c->members_.push_back(std::move(m));
  }
  for (Member& m : c->members_) IPN_RETURN_IF_ERROR(c->Launch(m));
  IPN_RETURN_IF_ERROR(c->WaitWritable(std::chrono::seconds(20)));
  return c;
}

EtcdCluster::~EtcdCluster() {
  for (Member& m : members_) {
    if (m.process.running()) m.process.Stop(std::chrono::seconds(5));
  }
}

Status EtcdCluster::Launch(Member& m) {
  std::error_code ec;
  std::filesystem::create_directories(m.dir, ec);
  if (ec) return Status::IoError("cannot create " + m.dir + ": " + ec.message());
  const std::string client = PeerUrl(m.client_port);
  const std::string peer = PeerUrl(m.peer_port);
  std::vector<std::string> argv = {
      options_.etcd,
      "--name=" + m.name,
      "--data-dir=" + m.dir + "/data",
      "--listen-client-urls=" + client,
      "--advertise-client-urls=" + client,
      "--listen-peer-urls=" + peer,
      "--initial-advertise-peer-urls=" + peer,
      "--initial-cluster=" + initial_cluster_,
      "--initial-cluster-state=new",  // ignored once the data directory holds a member
      "--initial-cluster-token=" + token_,
      "--heartbeat-interval=" + std::to_string(options_.heartbeat_ms),
      "--election-timeout=" + std::to_string(options_.election_timeout_ms),
      "--logger=zap",
      "--log-outputs=stderr",
      "--log-level=warn"};
  Result<ChildProcess> p = ChildProcess::Start(argv, {}, m.dir + "/etcd.log");
  if (!p.ok()) return p.status();
  m.process = std::move(*p);
  return Status::Ok();
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (const Member& m : members_) out.push_back("127.0.0.1:" + std::to_string(m.client_port));
  return out;
}

void EtcdCluster::Kill(size_t i) {
  if (members_[i].process.running()) members_[i].process.Kill();
}

Status EtcdCluster::Restart(size_t i) {
  if (members_[i].process.running()) return Status::FailedPrecondition(members_[i].name + " runs");
  return Launch(members_[i]);
}

Status EtcdCluster::WaitWritable(std::chrono::milliseconds within) const {
  const auto deadline = std::chrono::steady_clock::now() + within;
  Status last = Status::Unavailable("no attempt");
  for (const Member& m : members_) {
    if (!m.process.running()) continue;
    replica::EtcdOptions o;
    o.endpoints = {"127.0.0.1:" + std::to_string(m.client_port)};
    o.call_timeout = std::chrono::milliseconds(500);
    Result<std::unique_ptr<replica::EtcdClient>> client = replica::EtcdClient::Connect(o);
    if (!client.ok()) return client.status();
    while (true) {
      Result<int64_t> put = (*client)->Put("/ipn/health/" + m.name, "ok", 0);
      if (put.ok()) break;
      last = put.status();
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::Unavailable("etcd member " + m.name + " does not accept writes: " +
                                   last.ToString() + " (see " + m.dir + "/etcd.log)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return Status::Ok();
}

}  // namespace ipn::localnet
