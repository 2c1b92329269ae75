// FloorNetwork: the do-nothing broker, for the latency floor. See floor_network.h.
#include "bench/broker/floor_network.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <zmq.hpp>

#include "common/curve_keys.h"
#include "common/envelope_io.h"
#include "tools/localnet/child_process.h"

namespace ipn::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMessageBytes = 200;  // about an inquiry envelope

// Message: type byte, 8-byte sequence number, padding.
std::string Message(char type, uint64_t seq) {
  std::string m(kMessageBytes, 'x');
  m[0] = type;
  std::memcpy(m.data() + 1, &seq, sizeof(seq));
  return m;
}
uint64_t SeqOf(const zmq::message_t& m) {
  uint64_t seq = 0;
  if (m.size() >= 9) std::memcpy(&seq, static_cast<const char*>(m.data()) + 1, sizeof(seq));
  return seq;
}
char TypeOf(const zmq::message_t& m) {
  return m.size() > 0 ? static_cast<const char*>(m.data())[0] : '\0';
}

std::map<std::string, std::string> ParseArgs(const std::vector<std::string>& args) {
  std::map<std::string, std::string> out;
  for (const std::string& a : args) {
    size_t eq = a.find('=');
    if (eq != std::string::npos) out[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return out;
}

void Ready(const std::string& fields) {
  std::printf("READY %s\n", fields.c_str());
  std::fflush(stdout);
}

void Send(zmq::socket_t& s, const std::string& body) {
  s.send(zmq::buffer(body), zmq::send_flags::none);
}
void SendTo(zmq::socket_t& router, const std::string& to, const std::string& body) {
  router.send(zmq::buffer(to), zmq::send_flags::sndmore);
  router.send(zmq::buffer(body), zmq::send_flags::none);
}
// One message from a ROUTER: sender id and body; false if none waits.
bool RecvFrom(zmq::socket_t& router, std::string* from, zmq::message_t* body) {
  zmq::message_t id;
  if (!router.recv(id, zmq::recv_flags::dontwait)) return false;
  *from = id.to_string();
  (void)router.recv(*body);
  return true;
}

// Waits for the ack of a hello: after it, the other side can route to this socket.
bool AwaitAck(zmq::socket_t& s) {
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::seconds(10)) == 0) return false;
  zmq::message_t m;
  return s.recv(m).has_value() && TypeOf(m) == 'K';
}

// A CURVE server ROUTER (no ZAP: any client key) on a free loopback port.
zmq::socket_t CurveRouter(zmq::context_t& ctx, const CurveKeyPair& own) {
  zmq::socket_t s(ctx, zmq::socket_type::router);
  s.set(zmq::sockopt::curve_server, 1);
  s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(own.secret_key.data(), 32));
  s.set(zmq::sockopt::linger, 0);
  s.bind("tcp://127.0.0.1:*");
  return s;
}

PublicKey Pub(const std::string& key_file) {
  auto k = CurveKeyPair::LoadFile(key_file);
  return k.ok() ? k->public_key : PublicKey{};
}

// Core: ROUTER (CURVE server). Q from the inquirer's node -> F to the provider's node at
// once; then the durable append; then D back.
int RunCore(std::map<std::string, std::string> a) {
  auto keys = CurveKeyPair::LoadFile(a["key"]);
  if (!keys.ok()) return 2;
  const int fd = open(a["file"].c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return 2;
  zmq::context_t ctx(1);
  zmq::socket_t router = CurveRouter(ctx, *keys);
  Ready("endpoint=" + router.get(zmq::sockopt::last_endpoint));
  const std::string record(300, 'r');
  for (;;) {
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    std::string from;
    zmq::message_t m;
    while (RecvFrom(router, &from, &m)) {
      if (TypeOf(m) == 'H') SendTo(router, from, "K");  // the node knows it is routable
      if (TypeOf(m) == 'P') {  // the decision's path alone: straight back, nothing done
        SendTo(router, "INQ", Message('p', SeqOf(m)));
        continue;
      }
      if (TypeOf(m) != 'Q') continue;
      const uint64_t seq = SeqOf(m);
      SendTo(router, "PROV", Message('F', seq));
      if (write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
          fdatasync(fd) != 0) {
        return 3;
      }
      SendTo(router, "INQ", Message('D', seq));
    }
  }
}

zmq::socket_t CurveDealer(zmq::context_t& ctx, const CurveKeyPair& own, const PublicKey& server,
                          const std::string& id, const std::string& endpoint) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  Status configured = ConfigureCurveClient(s, own, server);
  // A bench role has no one to return a Status to: RunFloorRole catches this and exits.
  if (!configured.ok()) throw std::runtime_error(configured.ToString());
  s.set(zmq::sockopt::routing_id, id);
  s.connect(endpoint);
  return s;
}

// Inquirer's node: local ROUTER (ipc), DEALER to the core, answer ROUTER (CURVE server).
int RunInquirerNode(std::map<std::string, std::string> a) {
  auto keys = CurveKeyPair::LoadFile(a["key"]);
  if (!keys.ok()) return 2;
  zmq::context_t ctx(1);
  zmq::socket_t local(ctx, zmq::socket_type::router);
  local.set(zmq::sockopt::linger, 0);
  local.bind(a["local"]);
  zmq::socket_t core = CurveDealer(ctx, *keys, Pub(a["core_key"]), "INQ", a["core"]);
  Send(core, "H");
  if (!AwaitAck(core)) return 5;
  zmq::socket_t answers = CurveRouter(ctx, *keys);
  Ready("answers=" + answers.get(zmq::sockopt::last_endpoint));
  std::map<uint64_t, std::string> client;  // seq -> local client
  std::set<uint64_t> decided, answered;
  auto release = [&](uint64_t seq) {
    if (decided.count(seq) == 0 || answered.count(seq) == 0) return;
    SendTo(local, client[seq], Message('R', seq));
    decided.erase(seq);
    answered.erase(seq);
    client.erase(seq);
  };
  for (;;) {
    zmq::pollitem_t items[] = {{local.handle(), 0, ZMQ_POLLIN, 0},
                               {core.handle(), 0, ZMQ_POLLIN, 0},
                               {answers.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 3, std::chrono::milliseconds(100));
    std::string from;
    zmq::message_t m;
    while (RecvFrom(local, &from, &m)) {
      client[SeqOf(m)] = from;
      core.send(m, zmq::send_flags::none);
    }
    while (core.recv(m, zmq::recv_flags::dontwait)) {
      if (TypeOf(m) == 'p') {  // the decision's path alone: no answer to wait for
        auto it = client.find(SeqOf(m));
        if (it == client.end()) continue;
        SendTo(local, it->second, Message('R', SeqOf(m)));
        client.erase(it);
        continue;
      }
      decided.insert(SeqOf(m));
      release(SeqOf(m));
    }
    while (RecvFrom(answers, &from, &m)) {
      if (TypeOf(m) != 'A') continue;
      answered.insert(SeqOf(m));
      release(SeqOf(m));
    }
  }
}

// Provider's node: DEALER to the core, local ROUTER (ipc) to its agency, DEALER to the
// inquirer's node's answer endpoint.
int RunProviderNode(std::map<std::string, std::string> a) {
  auto keys = CurveKeyPair::LoadFile(a["key"]);
  if (!keys.ok()) return 2;
  zmq::context_t ctx(1);
  zmq::socket_t local(ctx, zmq::socket_type::router);
  local.set(zmq::sockopt::linger, 0);
  local.bind(a["local"]);
  zmq::socket_t core = CurveDealer(ctx, *keys, Pub(a["core_key"]), "PROV", a["core"]);
  Send(core, "H");
  if (!AwaitAck(core)) return 5;
  zmq::socket_t peer = CurveDealer(ctx, *keys, Pub(a["inquirer_key"]), "PROV", a["answers"]);
  Send(peer, "H");
  Ready("ok=1");
  std::string agency;
  for (;;) {
    zmq::pollitem_t items[] = {{local.handle(), 0, ZMQ_POLLIN, 0},
                               {core.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, 2, std::chrono::milliseconds(100));
    std::string from;
    zmq::message_t m;
    while (RecvFrom(local, &from, &m)) {
      if (TypeOf(m) == 'H') {
        agency = from;
        SendTo(local, from, "K");
      }
      if (TypeOf(m) == 'A') peer.send(m, zmq::send_flags::none);
    }
    while (core.recv(m, zmq::recv_flags::dontwait)) {
      if (!agency.empty())
        SendTo(local, agency, std::string(static_cast<char*>(m.data()), m.size()));
    }
  }
}

// Provider's agency system: answers every forward at once.
int RunProviderAgency(std::map<std::string, std::string> a) {
  zmq::context_t ctx(1);
  zmq::socket_t node(ctx, zmq::socket_type::dealer);
  node.set(zmq::sockopt::linger, 0);
  node.connect(a["local"]);
  Send(node, "H");
  if (!AwaitAck(node)) return 5;
  Ready("ok=1");
  for (;;) {
    zmq::pollitem_t item{node.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    zmq::message_t m;
    while (node.recv(m, zmq::recv_flags::dontwait)) Send(node, Message('A', SeqOf(m)));
  }
}

}  // namespace

int RunFloorRole(const std::string& role, const std::vector<std::string>& args) {
  try {
    auto a = ParseArgs(args);
    if (role == "core") return RunCore(a);
    if (role == "inquirer-node") return RunInquirerNode(a);
    if (role == "provider-node") return RunProviderNode(a);
    if (role == "provider-agency") return RunProviderAgency(a);
  } catch (const std::exception& e) {  // zmq::error_t and the role's own failures
    std::fprintf(stderr, "floor %s: %s\n", role.c_str(), e.what());
    return 4;
  }
  return 2;
}

struct FloorNetwork::Parts {
  std::vector<localnet::ChildProcess> processes;  // stopped (SIGTERM) when destroyed
  zmq::context_t context{1};
  std::unique_ptr<zmq::socket_t> node;  // this process is the inquirer's agency
};

FloorNetwork::FloorNetwork() : parts_(std::make_unique<Parts>()) {}
FloorNetwork::~FloorNetwork() = default;

Result<std::unique_ptr<FloorNetwork>> FloorNetwork::Start(const std::string& self_exe,
                                                          const std::string& dir) {
  for (const char* name : {"core", "inq", "prov"}) {
    IPN_RETURN_IF_ERROR(CurveKeyPair::Generate().SaveFile(dir + "/" + name + ".key"));
  }
  std::unique_ptr<FloorNetwork> net(new FloorNetwork());
  auto start = [&](const std::string& role,
                   std::vector<std::string> args) -> Result<std::map<std::string, std::string>> {
    args.insert(args.begin(), {self_exe, "--floor-role", role});
    auto p = localnet::ChildProcess::Start(args, {}, dir + "/" + role + ".err");
    if (!p.ok()) return p.status();
    auto ready = p->WaitReady(std::chrono::seconds(10));
    net->parts_->processes.push_back(std::move(*p));
    return ready;
  };
  const std::string inq_ipc = "ipc://" + dir + "/inq.ipc", prov_ipc = "ipc://" + dir + "/prov.ipc";
  auto core = start("core", {"key=" + dir + "/core.key", "file=" + dir + "/core.log"});
  if (!core.ok()) return core.status();
  const std::string core_ep = (*core)["endpoint"];
  auto inq = start("inquirer-node", {"key=" + dir + "/inq.key", "core=" + core_ep,
                                     "core_key=" + dir + "/core.key", "local=" + inq_ipc});
  if (!inq.ok()) return inq.status();
  auto prov =
      start("provider-node", {"key=" + dir + "/prov.key", "core=" + core_ep,
                              "core_key=" + dir + "/core.key", "local=" + prov_ipc,
                              "answers=" + (*inq)["answers"], "inquirer_key=" + dir + "/inq.key"});
  if (!prov.ok()) return prov.status();
  auto agency = start("provider-agency", {"local=" + prov_ipc});
  if (!agency.ok()) return agency.status();
  net->parts_->node =
      std::make_unique<zmq::socket_t>(net->parts_->context, zmq::socket_type::dealer);
  net->parts_->node->set(zmq::sockopt::linger, 0);
  net->parts_->node->connect(inq_ipc);
  return net;
}

Result<double> FloorNetwork::RoundTrip(FloorPath path) {
  zmq::socket_t& node = *parts_->node;
  const auto t0 = Clock::now();
  Send(node, Message(path == FloorPath::kWhole ? 'Q' : 'P', next_++));
  zmq::pollitem_t item{node.handle(), 0, ZMQ_POLLIN, 0};
  // The first inquiries may find connections still handshaking: a long bound, and a round
  // trip that never ends fails the measurement.
  if (zmq::poll(&item, 1, std::chrono::seconds(10)) == 0) {
    return Status::DeadlineExceeded("the floor network did not answer inquiry " +
                                    std::to_string(next_ - 1));
  }
  zmq::message_t reply;
  (void)node.recv(reply);
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

}  // namespace ipn::bench
