// EtcdClient over gRPC: etcd's KV and Lease services, stubs generated at build time from
// the .proto files Debian ships (replica/CMakeLists.txt).
#include "replica/etcd_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <charconv>
#include <thread>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace ipn::replica {
namespace {

namespace pb = etcdserverpb;
using Clock = std::chrono::steady_clock;

// etcd's own ways of saying "no quorum now": its request context ran out on the server
// (sent back as UNKNOWN "context deadline exceeded" by the Go server), or its raft had no
// leader or changed leader meanwhile. Each is retried and reported as Unavailable.
bool NoQuorumNow(const grpc::Status& s) {
  const grpc::StatusCode code = s.error_code();
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return true;
  }
  if (code != grpc::StatusCode::UNKNOWN && code != grpc::StatusCode::CANCELLED) return false;
  const std::string& m = s.error_message();
  for (const char* said : {"context deadline exceeded", "context canceled", "request timed out",
                           "leader changed", "no leader"}) {
    if (m.find(said) != std::string::npos) return true;
  }
  return false;
}

Status FromGrpc(const grpc::Status& s, const char* what) {
  std::string m = std::string("etcd ") + what + ": " + s.error_message();
  if (NoQuorumNow(s) && s.error_code() != grpc::StatusCode::UNAVAILABLE &&
      s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    return Status::Unavailable(m + " (no quorum now)");
  }
  switch (s.error_code()) {
    case grpc::StatusCode::OK: return Status::Ok();
    case grpc::StatusCode::UNAVAILABLE:
      return Status::Unavailable(m + " (no quorum or no member reachable)");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::Unavailable(m + " (deadline passed: no quorum or no member reachable)");
    case grpc::StatusCode::NOT_FOUND: return Status::NotFound(m);
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE: return Status::InvalidArgument(m);
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return Status::ResourceExhausted(m);
    case grpc::StatusCode::FAILED_PRECONDITION: return Status::FailedPrecondition(m);
    default: return Status::Internal(m);
  }
}

KeyValue FromPb(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.lease()};
}

class GrpcEtcdClient final : public EtcdClient {
 public:
  GrpcEtcdClient(std::shared_ptr<grpc::Channel> channel, const EtcdOptions& options)
      : kv_(pb::KV::NewStub(channel)),
        lease_(pb::Lease::NewStub(channel)),
        timeout_(options.call_timeout),
        attempt_timeout_(std::min(options.attempt_timeout, options.call_timeout)) {}

  Result<int64_t> Put(const std::string& key, const std::string& value, int64_t lease) override {
    pb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    req.set_lease(lease);
    pb::PutResponse resp;
    IPN_RETURN_IF_ERROR(
        Call("put", [&](grpc::ClientContext* c) { return kv_->Put(c, req, &resp); }));
    return resp.header().revision();
  }

  Result<std::vector<KeyValue>> Range(const std::string& key, const std::string& range_end,
                                      int64_t limit, bool descending) override {
    pb::RangeRequest req;
    req.set_key(key);
    req.set_range_end(range_end);
    req.set_limit(limit);
    if (descending) {
      req.set_sort_order(pb::RangeRequest::DESCEND);
      req.set_sort_target(pb::RangeRequest::KEY);
    }
    pb::RangeResponse resp;
    IPN_RETURN_IF_ERROR(
        Call("range", [&](grpc::ClientContext* c) { return kv_->Range(c, req, &resp); }));
    std::vector<KeyValue> out;
    out.reserve(static_cast<size_t>(resp.kvs_size()));
    for (const auto& kv : resp.kvs()) out.push_back(FromPb(kv));
    return out;
  }

  Result<int64_t> DeleteRange(const std::string& key, const std::string& range_end) override {
    pb::DeleteRangeRequest req;
    req.set_key(key);
    req.set_range_end(range_end);
    pb::DeleteRangeResponse resp;
    IPN_RETURN_IF_ERROR(
        Call("delete", [&](grpc::ClientContext* c) { return kv_->DeleteRange(c, req, &resp); }));
    return resp.deleted();
  }

  Result<TxnResult> Txn(const std::vector<Compare>& compares, const std::vector<PutOp>& on_success,
                        const std::vector<std::string>& read_on_failure) override {
    pb::TxnRequest req;
    for (const Compare& c : compares) {
      pb::Compare* pc = req.add_compare();
      pc->set_key(c.key);
      pc->set_result(pb::Compare::EQUAL);
      switch (c.target) {
        case Compare::Target::kCreateRevision:
          pc->set_target(pb::Compare::CREATE);
          pc->set_create_revision(c.revision);
          break;
        case Compare::Target::kModRevision:
          pc->set_target(pb::Compare::MOD);
          pc->set_mod_revision(c.revision);
          break;
        case Compare::Target::kValue:
          pc->set_target(pb::Compare::VALUE);
          pc->set_value(c.value);
          break;
      }
    }
    for (const PutOp& p : on_success) {
      pb::PutRequest* put = req.add_success()->mutable_request_put();
      put->set_key(p.key);
      put->set_value(p.value);
      put->set_lease(p.lease);
    }
    for (const std::string& k : read_on_failure) {
      req.add_failure()->mutable_request_range()->set_key(k);
    }
    pb::TxnResponse resp;
    IPN_RETURN_IF_ERROR(
        Call("txn", [&](grpc::ClientContext* c) { return kv_->Txn(c, req, &resp); }));
    TxnResult out;
    out.succeeded = resp.succeeded();
    out.revision = resp.header().revision();
    if (!out.succeeded) {
      for (const auto& r : resp.responses()) {
        if (!r.has_response_range()) continue;
        for (const auto& kv : r.response_range().kvs()) out.reads.push_back(FromPb(kv));
      }
    }
    return out;
  }

  Result<int64_t> LeaseGrant(int64_t ttl_s) override {
    pb::LeaseGrantRequest req;
    req.set_ttl(ttl_s);
    pb::LeaseGrantResponse resp;
    IPN_RETURN_IF_ERROR(Call(
        "lease grant", [&](grpc::ClientContext* c) { return lease_->LeaseGrant(c, req, &resp); }));
    if (!resp.error().empty()) return Status::Unavailable("etcd lease grant: " + resp.error());
    return resp.id();
  }

  Result<int64_t> LeaseKeepAlive(int64_t id) override {
    pb::LeaseKeepAliveResponse resp;
    IPN_RETURN_IF_ERROR(Call("lease keep-alive", [&](grpc::ClientContext* c) {
      auto stream = lease_->LeaseKeepAlive(c);
      pb::LeaseKeepAliveRequest req;
      req.set_id(id);
      if (!stream->Write(req) || !stream->WritesDone()) return stream->Finish();
      bool got = stream->Read(&resp);
      grpc::Status s = stream->Finish();
      if (s.ok() && !got) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed");
      return s;
    }));
    return resp.ttl() > 0 ? resp.ttl() : 0;
  }

  Status LeaseRevoke(int64_t id) override {
    pb::LeaseRevokeRequest req;
    req.set_id(id);
    pb::LeaseRevokeResponse resp;
    return Call("lease revoke",
                [&](grpc::ClientContext* c) { return lease_->LeaseRevoke(c, req, &resp); });
  }

 private:
  // Runs `rpc` until it succeeds, fails for a reason other than a lost connection or a
  // lost request, or the call's deadline passes. A member killed mid-call fails the call
  // UNAVAILABLE, and a request caught in an etcd leader change is never answered, so each
  // attempt has its own deadline and the next goes to a member that serves. Callers make
  // their writes safe to repeat (ReplicatedLog::Append reads back what a repeat finds).
  template <typename Rpc>
  Status Call(const char* what, Rpc rpc) {
    const auto deadline = Clock::now() + timeout_;
    grpc::Status s;
    for (int attempt = 0;; ++attempt) {
      const auto left = deadline - Clock::now();
      const auto budget = std::min<Clock::duration>(left, attempt_timeout_);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + budget);
      // Wait for some member to be connected instead of failing at once while the
      // channel moves off a dead one.
      ctx.set_wait_for_ready(true);
      s = rpc(&ctx);
      const grpc::StatusCode code = s.error_code();
      if (!NoQuorumNow(s)) break;
      if (Clock::now() + std::chrono::milliseconds(20) >= deadline) break;
      if (code == grpc::StatusCode::UNAVAILABLE) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20 * (attempt + 1), 100)));
      }
    }
    return FromGrpc(s, what);
  }

  std::unique_ptr<pb::KV::Stub> kv_;
  std::unique_ptr<pb::Lease::Stub> lease_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds attempt_timeout_;
};

}  // namespace

Result<std::unique_ptr<EtcdClient>> EtcdClient::Connect(const EtcdOptions& options) {
  if (options.endpoints.empty()) return Status::InvalidArgument("no etcd endpoints given");
  std::string target = "ipv4:";
  for (size_t i = 0; i < options.endpoints.size(); ++i) {
    const std::string& e = options.endpoints[i];
    if (e.empty() || e.find(':') == std::string::npos || e.find('/') != std::string::npos) {
      return Status::InvalidArgument("etcd endpoint '" + e + "' is not host:port");
    }
    target += (i ? "," : "") + e;
  }
  grpc::ChannelArguments args;
  // Spread calls over every member that answers and skip the ones that do not, so one
  // member's death costs at most the calls already on it.
  args.SetLoadBalancingPolicyName("round_robin");
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A read of the log window may carry many batches (callers bound it with a limit).
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  return std::unique_ptr<EtcdClient>(new GrpcEtcdClient(channel, options));
}

Result<std::optional<KeyValue>> EtcdClient::Get(const std::string& key) {
  Result<std::vector<KeyValue>> r = Range(key, "", 1, false);
  if (!r.ok()) return r.status();
  if (r->empty()) return std::optional<KeyValue>();
  return std::optional<KeyValue>(std::move(r->front()));
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [at, error] = std::from_chars(text.data(), end, value);
  // from_chars takes no sign for unsigned types and fails on overflow; it must take all.
  if (text.empty() || error != std::errc() || at != end) return std::nullopt;
  return value;
}

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's convention for "to the end")
}

}  // namespace ipn::replica
