// ipn-portal: the citizens' disclosure portal on loopback. Thin: flags, PortalServer,
// signals. Prints its address once ready.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "common/encoding.h"
#include "common/file_util.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
#include "policy/policy_store.h"
#include "portal/portal_server.h"
#include "tools/daemon/daemon.h"
#include "tools/daemon/last_resort.h"

namespace {

int RunMain(int argc, char** argv, ipn::daemon::LastResort& last_resort) {
  CLI::App app{"ipn-portal: the citizens' disclosure portal (情報提供等記録開示)"};
  ipn::portal::PortalOptions options;
  std::string log_path, bundle, admin_key;
  app.add_option("--agency", options.agency_code, "The portal's agency code")
      ->capture_default_str();
  app.add_option("--node", options.node_endpoint, "The portal's node, local endpoint (ipc://PATH)")
      ->required();
  app.add_option("--card-issuer", options.card_issuer_certificate,
                 "The card issuer's certificate (PEM), pinned: cards of no other issuer count")
      ->required();
  app.add_option("--card-crl", options.card_revocation_list,
                 "The card issuer's revocation list (PEM; re-read whenever it changes)")
      ->required();
  app.add_option("--origin", options.origin,
                 "The origin cards sign for (default http://HOST:PORT as bound)");
  app.add_option("--data-dir", options.data_dir, "Enrolments and the portal's data key")
      ->required();
  app.add_option("--host", options.host, "Address to listen on (loopback)")->capture_default_str();
  app.add_option("--port", options.port, "Port (0: any free port)")->capture_default_str();
  app.add_option("--bundle", bundle, "Policy bundle for names (default: the demo policy)");
  app.add_option("--admin-key", admin_key, "The bundle's administrator public key file");
  app.add_option("--trust", options.trust_document,
                 "The signed trust document served to the page (`ipn trust sign`)");
  app.add_option("--log", log_path, "Log file (JSON lines); default stderr");
  CLI11_PARSE(app, argc, argv);

  if (bundle.empty()) {
    auto names = ipn::policy::LoadDemoPolicy();
    if (!names.ok()) {
      std::fprintf(stderr, "ipn-portal: %s\n", names.status().ToString().c_str());
      return 1;
    }
    options.names = *names;
  } else {
    auto key = ipn::policy::ReadAdminPublicKey(admin_key);
    if (!key.ok()) {
      std::fprintf(stderr, "ipn-portal: --admin-key: %s\n", key.status().message().c_str());
      return 2;
    }
    ipn::policy::PolicyStore store(*key);
    // Read once: the names and the bytes served at /api/policy are the same bundle's.
    auto file = ipn::ReadFile(bundle);
    if (!file.ok()) {
      std::fprintf(stderr, "ipn-portal: --bundle: %s\n", file.status().ToString().c_str());
      return 2;
    }
    if (ipn::Status s = store.Load(ipn::AsBytes(*file)); !s.ok()) {
      std::fprintf(stderr, "ipn-portal: %s: %s\n", bundle.c_str(), s.ToString().c_str());
      return 2;
    }
    options.names = store.Current();
    options.signed_policy = std::move(*file);
  }
  auto log = ipn::daemon::OpenLog(log_path, "portal");
  if (!log.ok()) {
    std::fprintf(stderr, "ipn-portal: %s\n", log.status().ToString().c_str());
    return 1;
  }
  options.logger = last_resort.KeepLog(std::move(*log));
  static ipn::daemon::Signals signals;
  ipn::daemon::InstallSignalHandlers(&signals);
  auto portal = ipn::portal::PortalServer::Open(std::move(options));
  if (!portal.ok()) {
    std::fprintf(stderr, "ipn-portal: cannot start: %s\n", portal.status().ToString().c_str());
    return 1;
  }
  ipn::daemon::AnnounceReady("port=" + std::to_string((*portal)->port()) +
                             " origin=" + (*portal)->origin());
  ipn::Status s = (*portal)->Run(signals.stop);
  return s.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ipn::daemon::LastResort last_resort("ipn-portal");
  return last_resort.Run([&] { return RunMain(argc, argv, last_resort); });
}
