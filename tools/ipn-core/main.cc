// ipn-core: runs the core router. Thin: parses flags, opens CoreRouter, serves until
// SIGTERM/SIGINT; SIGHUP reloads the policy bundle file.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "common/file_util.h"
#include "core/core_router.h"
#include "symbol/key_ring_file.h"
#include "symbol/symbol_service.h"
#include "tools/daemon/daemon.h"
#include "tools/daemon/last_resort.h"

namespace {

int RunMain(int argc, char** argv, ipn::daemon::LastResort& last_resort) {
  CLI::App app{"ipn-core: the core router of the information-provision network"};
  ipn::core::CoreOptions options;
  std::string admin_key_hex, log_path;
  double deadline_s = 5.0;
  app.add_option("--data-dir", options.data_dir, "Directory holding symbols/ and records/")
      ->required();
  app.add_option("--bind", options.bind_endpoint, "ROUTER endpoint (tcp://127.0.0.1:* = any port)")
      ->capture_default_str();
  app.add_option("--key-file", options.key_file, "The core's Curve25519 secret key file")
      ->required();
  app.add_option("--policy", options.policy_bundle_file, "Signed policy bundle")->required();
  app.add_option("--admin-key", admin_key_hex,
                 "Policy administrator's Ed25519 public key (64 hex characters)")
      ->required();
  app.add_option("--operator-roster", options.operator_roster_file,
                 "Operator roster: policy loads while running need its approvals "
                 "(<policy>.approvals; docs/operations.md)");
  app.add_option("--deadline", deadline_s, "Seconds a provider has to answer")
      ->capture_default_str();
  app.add_option("--token-module", options.token_module,
                 "The PKCS#11 module of a token-protected key ring (the ring's header must name "
                 "this one)")
      ->capture_default_str();
  app.add_option("--metrics-port", options.metrics_port,
                 "Loopback port for /health and /metrics (0: any, -1: off)")
      ->capture_default_str();
  app.add_option("--log", log_path, "Log file (JSON lines); default stderr");
  app.add_option("--etcd", options.etcd_endpoints,
                 "Replication: etcd client endpoints (host:port, comma-separated); this core is "
                 "then one site of a replicated core and serves only while it leads")
      ->delimiter(',');
  app.add_option("--site", options.site, "Replication: this core's site name (e.g. east)");
  app.add_option("--sites", options.sites,
                 "Replication: every site's name, comma-separated (the window of batches in "
                 "etcd is trimmed only below what all of them applied)")
      ->delimiter(',');
  app.add_option("--replica-set", options.replica_set_file,
                 "Replication: the sites from a replica set file (ipn replica request), which "
                 "takes effect only with the roster's replica_change approvals (FILE.approvals)");
  app.add_option("--lease-ttl", options.lease_ttl_s,
                 "Replication: the leader's etcd lease in seconds (about the failover time)")
      ->capture_default_str();
  app.add_flag("--fast-kdf", options.fast_kdf,
               "Key ring protected with Argon2id at its minimum cost (demo and tests only)");
  CLI11_PARSE(app, argc, argv);

  auto admin = ipn::ParsePublicKeyHex(admin_key_hex);
  if (!admin.ok()) {
    std::fprintf(stderr, "ipn-core: --admin-key: %s\n", admin.status().message().c_str());
    return 2;
  }
  options.admin_public_key = *admin;
  options.provider_deadline_us = static_cast<int64_t>(deadline_s * 1e6);
  auto log = ipn::daemon::OpenLog(log_path, "core");
  if (!log.ok()) {
    std::fprintf(stderr, "ipn-core: %s\n", log.status().ToString().c_str());
    return 1;
  }
  options.logger = last_resort.KeepLog(std::move(*log));
  // A key ring moved into a PKCS#11 token (`ipn token protect-ring`) opens with the
  // token's PIN instead of the passphrase; its header says which.
  auto protection = ipn::symbol::KeyRingFile::DescribeProtection(
      options.data_dir + "/symbols/" + ipn::symbol::SymbolService::kKeyRingFileName);
  const bool token = protection.ok() && *protection != "passphrase";
  auto passphrase =
      token ? ipn::daemon::ReadPassphrase("PIN of the key ring's token (" + *protection + "): ",
                                          "IPN_TOKEN_PIN")
            : ipn::daemon::ReadPassphrase("Key ring passphrase: ");
  if (!passphrase.ok()) {
    std::fprintf(stderr, "ipn-core: %s\n", passphrase.status().message().c_str());
    return 2;
  }
  options.key_ring_passphrase = std::move(*passphrase);

  static ipn::daemon::Signals signals;
  ipn::daemon::InstallSignalHandlers(&signals);
  auto core = ipn::core::CoreRouter::Open(std::move(options));
  if (!core.ok()) {
    std::fprintf(stderr, "ipn-core: cannot start: %s\n", core.status().ToString().c_str());
    return 1;
  }
  ipn::daemon::AnnounceReady("endpoint=" + (*core)->endpoint() +
                             " metrics_port=" + std::to_string((*core)->metrics_port()));
  ipn::Status s = (*core)->Run(signals.stop, signals.reload);
  if (!s.ok()) {
    std::fprintf(stderr, "ipn-core: stopped on error: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ipn::daemon::LastResort last_resort("ipn-core");
  return last_resort.Run([&] { return RunMain(argc, argv, last_resort); });
}
