// LocalNetwork: a whole network on this machine, as real processes on loopback — the
// core, one interface node per agency, and demo agency systems — with generated keys, a
// freshly signed demo policy and every file under one data directory. `ipn demo` and the
// end-to-end tests stand on it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/curve_keys.h"
#include "common/secret.h"
#include "common/status.h"
#include "policy/compiler.h"
#include "tools/localnet/child_process.h"

namespace ipn::records {
class RecordStore;
}
namespace ipn::symbol {
class SymbolService;
}

namespace ipn::localnet {

struct AgencySpec {
  std::string code;
  bool start_node = true;
  bool start_agency_program = true;  // the demo agency system answering from a dataset
};

struct LocalNetworkOptions {
  std::string data_dir;                // created if missing; everything lives here
  std::string bin_dir;                 // where ipn-core, ipn-node, ipn-agency are
  std::vector<AgencySpec> agencies;    // nodes (and agency programs) to start
  std::vector<std::string> suspended;  // agencies suspended in the directory
  std::string answer_marker;           // appended to every demo answer
  double provider_deadline_s = 3.0;
  double rate_per_second = 0;  // per-agency limit for the started agencies;
                               // 0 keeps the directory's default
  bool fast_kdf = true;        // key ring Argon2id at minimum cost
  // The disclosure portal (ipn-portal) behind `portal_agency`'s node, trusting the card
  // issuer in data_dir/card-issuer (created here when absent; cards are linked through
  // `registry_agency`'s node, see card_issuer_dir()); both agencies must be in `agencies`
  // with a node.
  bool start_portal = false;
  std::string operator_roster_file;  // given to the core as --operator-roster when set
  // Runs on the first bundle once it is written, before any core starts: where a test
  // adds the approvals its roster requires of every bundle a core starts with.
  std::function<Status(const std::string& bundle_file)> approve_first_bundle;
  std::string portal_agency = "PORTAL-0001";
  std::string registry_agency = "REG-0001";
  // Replication (DESIGN.md §8): one core per site over the etcd cluster at
  // `etcd_endpoints` — the first site's in data_dir/core, the others' in
  // data_dir/core-<site> — sharing the core's key pair and a copy of its key ring (every
  // agency's keys made beforehand); each binds a fixed port, the nodes connect to all.
  // Empty: one core, not replicated.
  std::vector<std::string> sites;
  std::vector<std::string> etcd_endpoints;
  int lease_ttl_s = 2;
  // The cores' sites from this replica set file (--replica-set; policy/start_config.h)
  // instead of --sites: it may name other sites than `sites` (a site removed).
  std::string replica_set_file;
  // Keys in a token (docs/security.md): the key ring is moved into this PKCS#11 token with
  // `ipn token protect-ring` before the core starts, and the core opens it with
  // `token_pin` (IPN_TOKEN_PIN). The token must exist (SOFTHSM2_CONF names where). Single
  // core only. Empty: the passphrase ring.
  std::string key_ring_token;
  std::string token_pin;
};

class LocalNetwork {
 public:
  static Result<std::unique_ptr<LocalNetwork>> Start(LocalNetworkOptions options);
  ~LocalNetwork();

  const std::string& core_endpoint() const { return core_endpoint_; }
  const PublicKey& core_public_key() const { return core_keys_.public_key; }
  int core_metrics_port() const { return core_metrics_port_; }
  // The node's local endpoint for the agency's systems.
  std::string LocalEndpoint(const std::string& agency) const;
  std::string CoreLogPath() const { return options_.data_dir + "/core/core.log"; }
  // The trust document the portal serves (written by whoever runs the network: `ipn demo`).
  std::string PortalTrustPath() const { return options_.data_dir + "/portal-trust.json"; }
  // The policy administrator's public key (hex): it signs the bundle the core and the
  // portal load; the trust document names it for the page's check of names.
  const std::string& policy_admin_public_hex() const { return admin_public_hex_; }
  // The portal's HTTP port on 127.0.0.1 (-1 when not started).
  int portal_port() const { return portal_port_; }
  // The origin the portal's cards sign for (empty when not started).
  const std::string& portal_origin() const { return portal_origin_; }
  // The card issuer the portal trusts (`ipn card … --issuer DIR`).
  std::string card_issuer_dir() const { return options_.data_dir + "/card-issuer"; }
  const std::string& data_dir() const { return options_.data_dir; }
  // The cores' key ring passphrase (IPN_PASSPHRASE), for the operator tools a test runs.
  const std::string& key_ring_passphrase() const { return passphrase_; }

  // Crash or stop single parts, and start a node with an arbitrary key (returns the
  // child, ready or not, so a test can see it refused).
  void KillNode(const std::string& agency);
  // Stops the core (SIGTERM, or SIGKILL when `crash`) and starts it again on the same
  // endpoint, keys and data; returns once it is ready. Nodes are left alone: they heal.
  // `while_stopped` runs between the stop and the start (e.g. to fill the record store).
  Status RestartCore(bool crash, const std::function<Status()>& while_stopped = {});
  // The same for one agency's node (its agency program is left alone and reconnects).
  Status RestartNode(const std::string& agency, bool crash);
  // Replication: one site's core — its data directory, killed (SIGKILL) or signalled,
  // started again (on its directory and port), and its metrics port (-1 when stopped).
  std::string CoreDir(size_t site) const;
  void KillSite(size_t site);
  void SignalSite(size_t site, int signal);
  Status StartSite(size_t site);
  int SiteMetricsPort(size_t site) const;
  bool SiteRunning(size_t site) const;
  size_t sites_size() const { return options_.sites.size(); }
  // The site whose core says it leads (its ipn_core_leading metric), or -1.
  int LeadingSite() const;
  // The running processes, by name ("core", "node:MUN-131016", "agency:MUN-131016",
  // "portal"), for tests that inspect them.
  std::map<std::string, pid_t> ProcessIds() const;
  void KillAgencyProgram(const std::string& agency);
  Result<ChildProcess> StartNodeProcess(const std::string& agency, const std::string& key_file,
                                        const std::string& name);

  // The policy administrator at work: signs the demo policy again, one version up, with
  // `changes` applied on top of the network's own, and asks the core to load it (SIGHUP).
  // `before_reload` runs after the bundle is written and before the core is signalled
  // (a test adds the operators' approvals there). Without `reload` the bundle is only
  // written, for the core's next start.
  Status ChangePolicy(
      const std::map<std::string, policy::AgencyOverride>& changes,
      const std::function<Status(const std::string& bundle_file)>& before_reload = {},
      bool reload = true);

  // Stops everything in order (agency programs, nodes, core). Idempotent.
  Status Stop();

  // After Stop: the core's stores, opened with the core's keys, for checks.
  Result<std::unique_ptr<symbol::SymbolService>> OpenSymbols() const;
  // `bulk_load`: for filling a stopped core's store in benchmarks (see RecordStoreOptions).
  Result<std::unique_ptr<records::RecordStore>> OpenRecords(bool bulk_load = false) const;
  // Replication: the record store of `site` (after Stop).
  Result<std::unique_ptr<records::RecordStore>> OpenSiteRecords(size_t site) const;

 private:
  explicit LocalNetwork(LocalNetworkOptions options) : options_(std::move(options)) {}
  Status Launch();
  Status StartCore(const std::string& bind);
  Result<ChildProcess> LaunchCore(size_t site, const std::string& bind);
  Status PrepareSites();
  Status ProtectKeyRingWithToken();
  Status StartNode(const std::string& agency);
  std::string NodeDir(const std::string& agency) const;

  LocalNetworkOptions options_;
  std::string passphrase_;
  std::string admin_public_hex_;
  CurveKeyPair core_keys_;
  SecretBytes admin_secret_key_;
  std::map<std::string, policy::AgencyOverride> overrides_;
  uint64_t policy_version_ = 1;
  std::string core_endpoint_;
  int core_metrics_port_ = -1;
  ChildProcess core_;                     // the core (site 0 when replicated)
  std::vector<ChildProcess> site_cores_;  // sites 1… when replicated
  std::vector<std::string> site_binds_;   // every site's endpoint
  std::vector<int> site_metrics_;
  std::map<std::string, ChildProcess> nodes_;
  std::map<std::string, ChildProcess> programs_;
  ChildProcess portal_;
  int portal_port_ = -1;
  std::string portal_origin_;
};

}  // namespace ipn::localnet
