// CoreRouter: the core of the information-provision network (コアシステム). One
// ROUTER socket under CurveZMQ; every message enters at CoreRouter::Run, is handled by
// one named step (see docs/architecture.md), and leaves through the outbox only after
// the provision records it caused are durable.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/curve_keys.h"
#include "common/logger.h"
#include "common/status.h"

namespace ipn::core {

struct CoreOptions {
  std::string data_dir;                                // symbols/ and records/ live beneath
  std::string bind_endpoint = "tcp://127.0.0.1:7100";  // "tcp://127.0.0.1:*" picks a port
  // What opens the key ring: its passphrase, or, when the ring's header names a PKCS#11
  // token (`ipn token protect-ring`), that token's PIN. Wiped once the ring is open.
  std::string key_ring_passphrase;
  // The only PKCS#11 module a token-protected key ring may name (ipn-core --token-module).
  std::string token_module = "/usr/lib/softhsm/libsofthsm2.so";
  bool fast_kdf = false;           // Argon2id at its minimum (tests, demo)
  std::string key_file;            // the core's Curve25519 key pair
  std::string policy_bundle_file;  // signed policy bundle in force at start
  PublicKey admin_public_key{};    // the policy administrator's Ed25519 key
  // Two-person rule (policy/two_person.h): with a roster, a policy bundle loaded while the
  // core runs takes effect only with its rule's approvals, read from
  // `<policy_bundle_file>.approvals`. Empty: no rule (development default). The bundle in
  // force at start needs them too when it differs from the one in force at the last start
  // (policy/start_config.h); the first start installs it.
  std::string operator_roster_file;
  int64_t provider_deadline_us = 5'000'000;  // a silent provider times out after this
  int metrics_port = -1;                     // -1: no HTTP endpoint; 0: any free port
  // Replication (DESIGN.md §8, docs/replication.md): with etcd endpoints the core is one
  // site of a replicated core — it serves (binds `bind_endpoint`) only while it leads and
  // feeds its record store from etcd while it follows. Empty: a core of its own.
  std::vector<std::string> etcd_endpoints;  // "127.0.0.1:2379" each
  std::string site;                         // this core's site name
  std::vector<std::string> sites;           // every site (the window waits for all)
  // The sites from an approved replica set file instead (`ipn replica request|approve`;
  // FILE.approvals): a replica set that differs from the last start's takes effect only
  // with the roster's "replica_change" approvals. Required when the roster has that rule.
  std::string replica_set_file;
  int64_t lease_ttl_s = 2;       // the leader's etcd lease
  Logger* logger = nullptr;      // required
  const Clock* clock = nullptr;  // defaults to the system clock
};

class CoreRouter {
 public:
  static Result<std::unique_ptr<CoreRouter>> Open(CoreOptions options);
  ~CoreRouter();
  CoreRouter(const CoreRouter&) = delete;
  CoreRouter& operator=(const CoreRouter&) = delete;

  // The endpoint actually bound (resolves a wildcard port), and the metrics port.
  std::string endpoint() const;
  int metrics_port() const;

  // Serves until `stop` becomes true. `reload` set to true asks for the policy bundle
  // file to be loaded again (SIGHUP); it is reset when handled.
  Status Run(const std::atomic<bool>& stop, std::atomic<bool>& reload);

  class Impl;

 private:
  explicit CoreRouter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipn::core
