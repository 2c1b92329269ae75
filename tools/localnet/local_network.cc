// LocalNetwork: keys, policy, and the processes of a network on loopback.
#include "tools/localnet/local_network.h"

#include <httplib.h>
#include <signal.h>
#include <sodium.h>

#include <ctime>
#include <filesystem>

#include "card/card.h"
#include "common/encoding.h"
#include "common/file_util.h"
#include "policy/demo_policy.h"
#include "records/record_store.h"
#include "symbol/symbol_service.h"
#include "token/pkcs11_token.h"
#include "tools/localnet/etcd_cluster.h"

namespace ipn::localnet {

namespace {
constexpr auto kReadyTimeout = std::chrono::seconds(20);
}  // namespace

LocalNetwork::~LocalNetwork() {
  (void)Stop();
  Wipe(passphrase_.data(), passphrase_.size());
}

std::string LocalNetwork::NodeDir(const std::string& agency) const {
  return options_.data_dir + "/nodes/" + agency;
}

std::string LocalNetwork::LocalEndpoint(const std::string& agency) const {
  return "ipc://" + NodeDir(agency) + "/agency.sock";
}

Result<std::unique_ptr<LocalNetwork>> LocalNetwork::Start(LocalNetworkOptions options) {
  std::unique_ptr<LocalNetwork> net(new LocalNetwork(std::move(options)));
  Status s = net->Launch();
  if (!s.ok()) {
    (void)net->Stop();
    return s;
  }
  return net;
}

Status LocalNetwork::Launch() {
  const std::string& dir = options_.data_dir;
  IPN_RETURN_IF_ERROR(EnsureDirectory(dir + "/core"));
  IPN_RETURN_IF_ERROR(EnsureDirectory(dir + "/policy"));

  // 1. Keys: the core's and every node's Curve25519 pairs; the policy administrator's
  //    Ed25519 pair; the key ring's passphrase.
  core_keys_ = CurveKeyPair::Generate();
  IPN_RETURN_IF_ERROR(core_keys_.SaveFile(dir + "/core/core.key"));
  std::map<std::string, policy::AgencyOverride> overrides;
  for (const AgencySpec& spec : options_.agencies) {
    IPN_RETURN_IF_ERROR(EnsureDirectory(NodeDir(spec.code)));
    CurveKeyPair node = CurveKeyPair::Generate();
    IPN_RETURN_IF_ERROR(node.SaveFile(NodeDir(spec.code) + "/node.key"));
    overrides[spec.code].curve_public_key = node.public_key;
    if (options_.rate_per_second > 0) {
      overrides[spec.code].rate_per_second = options_.rate_per_second;
      overrides[spec.code].burst = options_.rate_per_second;
    }
  }
  for (const std::string& code : options_.suspended) {
    overrides[code].status = policy::AgencyStatus::kSuspended;
  }
  uint8_t admin_pk[crypto_sign_PUBLICKEYBYTES];
  admin_secret_key_ = SecretBytes(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(admin_pk, admin_secret_key_.data());
  overrides_ = overrides;
  Result<std::vector<uint8_t>> bundle =
      policy::BuildDemoBundle(overrides, policy_version_, admin_secret_key_.span());
  if (!bundle.ok()) return bundle.status().WithContext("demo policy");
  IPN_RETURN_IF_ERROR(WriteFileAtomic(dir + "/policy/bundle.ipnp", *bundle));
  if (options_.approve_first_bundle) {
    IPN_RETURN_IF_ERROR(
        options_.approve_first_bundle(dir + "/policy/bundle.ipnp").WithContext("approving"));
  }
  const std::string admin_hex = HexEncode(std::span<const uint8_t>(admin_pk, sizeof(admin_pk)));
  IPN_RETURN_IF_ERROR(WriteFileAtomic(dir + "/policy/admin.pub", admin_hex + "\n"));
  admin_public_hex_ = admin_hex;

  SecretBytes pass = SecretBytes::Random(24);
  passphrase_ = HexEncode(pass.span());
  symbol::SymbolServiceOptions sopts;
  sopts.kdf =
      options_.fast_kdf ? symbol::KdfStrength::kMinimumForTests : symbol::KdfStrength::kInteractive;
  IPN_RETURN_IF_ERROR(symbol::SymbolService::Create(dir + "/core/symbols", passphrase_, sopts)
                          .WithContext("key ring"));
  if (!options_.key_ring_token.empty()) IPN_RETURN_IF_ERROR(ProtectKeyRingWithToken());

  // 2. The core, or one per site.
  if (options_.sites.empty()) {
    IPN_RETURN_IF_ERROR(StartCore("tcp://127.0.0.1:*"));
  } else {
    IPN_RETURN_IF_ERROR(PrepareSites());
    for (size_t i = 0; i < options_.sites.size(); ++i) IPN_RETURN_IF_ERROR(StartSite(i));
  }

  // 3. The nodes, then the agency programs behind them.
  for (const AgencySpec& spec : options_.agencies) {
    if (!spec.start_node) continue;
    IPN_RETURN_IF_ERROR(StartNode(spec.code));
  }
  for (const AgencySpec& spec : options_.agencies) {
    if (!spec.start_node || !spec.start_agency_program) continue;
    std::vector<std::string> a = {options_.bin_dir + "/ipn-agency",
                                  "--agency",
                                  spec.code,
                                  "--node",
                                  LocalEndpoint(spec.code),
                                  "--log",
                                  NodeDir(spec.code) + "/agency.log"};
    if (!options_.answer_marker.empty()) {
      a.push_back("--marker");
      a.push_back(options_.answer_marker);
    }
    Result<ChildProcess> program =
        ChildProcess::Start(a, {}, NodeDir(spec.code) + "/agency.stderr");
    if (!program.ok()) return program.status();
    auto program_ready = program->WaitReady(kReadyTimeout);
    if (!program_ready.ok()) return program_ready.status().WithContext("agency " + spec.code);
    programs_[spec.code] = std::move(*program);
  }

  // 4. The disclosure portal, an agency system behind its own node.
  if (options_.start_portal) {
    if (nodes_.count(options_.portal_agency) == 0 || nodes_.count(options_.registry_agency) == 0) {
      return Status::InvalidArgument("the portal needs the nodes of " + options_.portal_agency +
                                     " and " + options_.registry_agency);
    }
    const std::string portal_dir = dir + "/portal";
    IPN_RETURN_IF_ERROR(EnsureDirectory(portal_dir));
    const std::string issuer = card_issuer_dir();
    if (!std::filesystem::exists(card::CardIssuer::CertificatePath(issuer))) {
      IPN_RETURN_IF_ERROR(card::CardIssuer::Init(issuer, "IPN demo card issuer",
                                                 static_cast<int64_t>(std::time(nullptr))));
    }
    std::vector<std::string> p = {options_.bin_dir + "/ipn-portal", "--agency",
                                  options_.portal_agency, "--node",
                                  LocalEndpoint(options_.portal_agency), "--card-issuer",
                                  card::CardIssuer::CertificatePath(issuer), "--card-crl",
                                  card::CardIssuer::RevocationListPath(issuer), "--data-dir",
                                  portal_dir, "--port", "0", "--trust", PortalTrustPath(),
                                  // The network's own signed bundle: the page checks the
                                  // names against it (the trust document names its key).
                                  "--bundle", dir + "/policy/bundle.ipnp", "--admin-key",
                                  dir + "/policy/admin.pub", "--log", portal_dir + "/portal.log"};
    Result<ChildProcess> portal = ChildProcess::Start(p, {}, portal_dir + "/portal.stderr");
    if (!portal.ok()) return portal.status();
    auto portal_ready = portal->WaitReady(kReadyTimeout);
    if (!portal_ready.ok()) return portal_ready.status().WithContext("portal");
    portal_port_ = std::stoi((*portal_ready)["port"]);
    portal_origin_ = (*portal_ready)["origin"];
    portal_ = std::move(*portal);
  }
  return Status::Ok();
}

Result<ChildProcess> LocalNetwork::LaunchCore(size_t site, const std::string& bind) {
  const std::string& dir = options_.data_dir;
  const std::string core_dir = CoreDir(site);
  std::vector<std::string> argv = {options_.bin_dir + "/ipn-core",
                                   "--data-dir",
                                   core_dir,
                                   "--bind",
                                   bind,
                                   "--key-file",
                                   core_dir + "/core.key",
                                   "--policy",
                                   dir + "/policy/bundle.ipnp",
                                   "--admin-key",
                                   admin_public_hex_,
                                   "--deadline",
                                   std::to_string(options_.provider_deadline_s),
                                   "--metrics-port",
                                   "0",
                                   "--log",
                                   core_dir + "/core.log"};
  if (options_.fast_kdf) argv.push_back("--fast-kdf");
  if (!options_.operator_roster_file.empty()) {
    argv.push_back("--operator-roster");
    argv.push_back(options_.operator_roster_file);
  }
  if (!options_.sites.empty()) {
    std::string etcd, sites;
    for (const std::string& e : options_.etcd_endpoints) etcd += (etcd.empty() ? "" : ",") + e;
    for (const std::string& s : options_.sites) sites += (sites.empty() ? "" : ",") + s;
    for (std::string a : {std::string("--etcd"), etcd, std::string("--site"), options_.sites[site],
                          std::string("--lease-ttl"), std::to_string(options_.lease_ttl_s)}) {
      argv.push_back(std::move(a));
    }
    // The sites from the approved replica set file when there is one (two-person rule).
    argv.push_back(options_.replica_set_file.empty() ? "--sites" : "--replica-set");
    argv.push_back(options_.replica_set_file.empty() ? sites : options_.replica_set_file);
  }
  if (!options_.key_ring_token.empty()) {
    return ChildProcess::Start(argv, {{"IPN_TOKEN_PIN", options_.token_pin}},
                               core_dir + "/core.stderr");
  }
  return ChildProcess::Start(argv, {{"IPN_PASSPHRASE", passphrase_}}, core_dir + "/core.stderr");
}

// What an operator does (docs/security.md): `ipn token protect-ring`, for real.
Status LocalNetwork::ProtectKeyRingWithToken() {
  if (!options_.sites.empty()) {
    return Status::InvalidArgument("key_ring_token is for a single core (no sites)");
  }
  const std::string core_dir = CoreDir(0);
  Result<ChildProcess> protect =
      ChildProcess::Start({options_.bin_dir + "/ipn", "token", "protect-ring", "--dir",
                           core_dir + "/symbols", "--token", options_.key_ring_token},
                          {{"IPN_PASSPHRASE", passphrase_}, {"IPN_TOKEN_PIN", options_.token_pin}},
                          core_dir + "/protect-ring.stderr");
  if (!protect.ok()) return protect.status();
  Result<int> exit_code = protect->Wait(std::chrono::seconds(60));
  if (!exit_code.ok()) return exit_code.status().WithContext("ipn token protect-ring");
  if (*exit_code != 0) {
    return Status::Internal("ipn token protect-ring exited with " + std::to_string(*exit_code) +
                            " (see " + core_dir + "/protect-ring.stderr)");
  }
  return Status::Ok();
}

Status LocalNetwork::StartCore(const std::string& bind) {
  Result<ChildProcess> core = LaunchCore(0, bind);
  if (!core.ok()) return core.status();
  core_ = std::move(*core);
  auto ready = core_.WaitReady(kReadyTimeout);
  if (!ready.ok()) return ready.status();
  core_endpoint_ = (*ready)["endpoint"];
  core_metrics_port_ = std::stoi((*ready)["metrics_port"]);
  return Status::Ok();
}

std::string LocalNetwork::CoreDir(size_t site) const {
  if (site == 0) return options_.data_dir + "/core";
  return options_.data_dir + "/core-" + options_.sites[site];
}

// The sites share one key ring: every agency's keys are made now, then the ring (and the
// empty issuance file beside it) and the core's key pair are copied to each other site.
Status LocalNetwork::PrepareSites() {
  const size_t n = options_.sites.size();
  {
    symbol::SymbolServiceOptions sopts;
    auto symbols = symbol::SymbolService::Open(CoreDir(0) + "/symbols", passphrase_, sopts);
    if (!symbols.ok()) return symbols.status().WithContext("key ring");
    for (const AgencySpec& spec : options_.agencies) {
      IPN_RETURN_IF_ERROR((*symbols)->EnsureAgencyKeys(spec.code));
    }
  }
  for (size_t i = 1; i < n; ++i) {
    std::error_code ec;
    std::filesystem::create_directories(CoreDir(i), ec);
    std::filesystem::copy(CoreDir(0) + "/symbols", CoreDir(i) + "/symbols",
                          std::filesystem::copy_options::recursive, ec);
    if (!ec) std::filesystem::copy_file(CoreDir(0) + "/core.key", CoreDir(i) + "/core.key", ec);
    if (ec) return Status::IoError("preparing site " + options_.sites[i] + ": " + ec.message());
  }
  Result<std::vector<int>> ports = FreeLoopbackPorts(n);
  if (!ports.ok()) return ports.status();
  core_endpoint_.clear();
  for (int port : *ports) {
    site_binds_.push_back("tcp://127.0.0.1:" + std::to_string(port));
    core_endpoint_ += (core_endpoint_.empty() ? "" : ",") + site_binds_.back();
  }
  site_cores_.resize(n - 1);
  site_metrics_.assign(n, -1);
  return Status::Ok();
}

Status LocalNetwork::StartSite(size_t site) {
  if (site >= options_.sites.size()) return Status::InvalidArgument("no such site");
  ChildProcess& slot = site == 0 ? core_ : site_cores_[site - 1];
  if (slot.running()) return Status::FailedPrecondition("site " + options_.sites[site] + " runs");
  Result<ChildProcess> core = LaunchCore(site, site_binds_[site]);
  if (!core.ok()) return core.status();
  slot = std::move(*core);
  auto ready = slot.WaitReady(kReadyTimeout);
  if (!ready.ok()) return ready.status().WithContext("site " + options_.sites[site]);
  site_metrics_[site] = std::stoi((*ready)["metrics_port"]);
  if (site == 0) core_metrics_port_ = site_metrics_[site];
  return Status::Ok();
}

void LocalNetwork::KillSite(size_t site) {
  ChildProcess& slot = site == 0 ? core_ : site_cores_[site - 1];
  slot.Kill();
  site_metrics_[site] = -1;
}

void LocalNetwork::SignalSite(size_t site, int signal) {
  const ChildProcess& slot = site == 0 ? core_ : site_cores_[site - 1];
  if (slot.running()) kill(slot.pid(), signal);
}

bool LocalNetwork::SiteRunning(size_t site) const {
  return (site == 0 ? core_ : site_cores_[site - 1]).running();
}

int LocalNetwork::SiteMetricsPort(size_t site) const {
  return site_metrics_[site];
}

int LocalNetwork::LeadingSite() const {
  for (size_t s = 0; s < options_.sites.size(); ++s) {
    if (!SiteRunning(s) || site_metrics_[s] <= 0) continue;
    httplib::Client http("127.0.0.1", site_metrics_[s]);
    // A paused core accepts in the kernel and never answers: do not wait on it.
    http.set_connection_timeout(0, 300'000);
    http.set_read_timeout(0, 500'000);
    auto res = http.Get("/metrics");
    if (res && res->status == 200 &&
        res->body.find("\nipn_core_leading 1\n") != std::string::npos) {
      return static_cast<int>(s);
    }
  }
  return -1;
}

Status LocalNetwork::StartNode(const std::string& agency) {
  Result<ChildProcess> node = StartNodeProcess(agency, NodeDir(agency) + "/node.key", "node");
  if (!node.ok()) return node.status();
  auto node_ready = node->WaitReady(kReadyTimeout);
  if (!node_ready.ok()) return node_ready.status().WithContext("node " + agency);
  nodes_[agency] = std::move(*node);
  return Status::Ok();
}

Status LocalNetwork::RestartCore(bool crash, const std::function<Status()>& while_stopped) {
  if (crash) {
    core_.Kill();
  } else if (int code = core_.Stop(); code != 0) {
    return Status::Internal("the core exited with code " + std::to_string(code));
  }
  if (while_stopped) IPN_RETURN_IF_ERROR(while_stopped());
  // The same endpoint: the nodes reconnect to it by themselves.
  return StartCore(core_endpoint_).WithContext("restarting the core");
}

Status LocalNetwork::RestartNode(const std::string& agency, bool crash) {
  auto it = nodes_.find(agency);
  if (it == nodes_.end()) return Status::NotFound("no node for " + agency);
  if (crash) {
    it->second.Kill();
  } else {
    it->second.Stop();
  }
  nodes_.erase(it);
  return StartNode(agency).WithContext("restarting the node of " + agency);
}

Result<ChildProcess> LocalNetwork::StartNodeProcess(const std::string& agency,
                                                    const std::string& key_file,
                                                    const std::string& name) {
  IPN_RETURN_IF_ERROR(EnsureDirectory(NodeDir(agency)));
  std::vector<std::string> argv = {options_.bin_dir + "/ipn-node",
                                   "--agency",
                                   agency,
                                   "--key-file",
                                   key_file,
                                   "--core",
                                   core_endpoint_,
                                   "--core-key",
                                   HexEncode(std::span<const uint8_t>(core_keys_.public_key)),
                                   "--local",
                                   LocalEndpoint(agency),
                                   "--answer-endpoint-file",
                                   NodeDir(agency) + "/answer_endpoint",
                                   "--timeout",
                                   std::to_string(options_.provider_deadline_s * 3 + 2),
                                   "--metrics-port",
                                   "0",
                                   "--log",
                                   NodeDir(agency) + "/" + name + ".log"};
  return ChildProcess::Start(argv, {}, NodeDir(agency) + "/" + name + ".stderr");
}

std::map<std::string, pid_t> LocalNetwork::ProcessIds() const {
  std::map<std::string, pid_t> out;
  if (core_.running()) out["core"] = core_.pid();
  for (size_t i = 1; i < options_.sites.size(); ++i) {
    if (site_cores_[i - 1].running()) out["core:" + options_.sites[i]] = site_cores_[i - 1].pid();
  }
  for (const auto& [agency, p] : nodes_) {
    if (p.running()) out["node:" + agency] = p.pid();
  }
  for (const auto& [agency, p] : programs_) {
    if (p.running()) out["agency:" + agency] = p.pid();
  }
  if (portal_.running()) out["portal"] = portal_.pid();
  return out;
}

void LocalNetwork::KillNode(const std::string& agency) {
  auto it = nodes_.find(agency);
  if (it != nodes_.end()) it->second.Kill();
}

void LocalNetwork::KillAgencyProgram(const std::string& agency) {
  auto it = programs_.find(agency);
  if (it != programs_.end()) it->second.Kill();
}

Status LocalNetwork::ChangePolicy(
    const std::map<std::string, policy::AgencyOverride>& changes,
    const std::function<Status(const std::string& bundle_file)>& before_reload, bool reload) {
  for (const auto& [code, change] : changes) {
    policy::AgencyOverride& o = overrides_[code];
    if (change.status) o.status = change.status;
    if (change.pia_approved) o.pia_approved = change.pia_approved;
    if (change.rate_per_second) o.rate_per_second = change.rate_per_second;
    if (change.burst) o.burst = change.burst;
    if (change.endpoint) o.endpoint = change.endpoint;
    if (change.curve_public_key) o.curve_public_key = change.curve_public_key;
  }
  Result<std::vector<uint8_t>> bundle =
      policy::BuildDemoBundle(overrides_, ++policy_version_, admin_secret_key_.span());
  if (!bundle.ok()) return bundle.status().WithContext("demo policy");
  const std::string bundle_file = options_.data_dir + "/policy/bundle.ipnp";
  IPN_RETURN_IF_ERROR(WriteFileAtomic(bundle_file, *bundle));
  if (before_reload) IPN_RETURN_IF_ERROR(before_reload(bundle_file));
  if (!reload) return Status::Ok();
  if (!core_.running() || kill(core_.pid(), SIGHUP) != 0) {
    return Status::FailedPrecondition("the core is not running");
  }
  return Status::Ok();
}

Status LocalNetwork::Stop() {
  portal_.Stop();
  for (auto& [code, p] : programs_) p.Stop();
  for (auto& [code, n] : nodes_) n.Stop();
  int core_exit = core_.Stop();
  for (ChildProcess& c : site_cores_) {
    if (int code = c.Stop(); code > 0 && core_exit <= 0) core_exit = code;
  }
  programs_.clear();
  nodes_.clear();
  if (core_exit > 0) {
    return Status::Internal("the core exited with code " + std::to_string(core_exit));
  }
  return Status::Ok();
}

Result<std::unique_ptr<symbol::SymbolService>> LocalNetwork::OpenSymbols() const {
  symbol::SymbolServiceOptions sopts;
  if (options_.key_ring_token.empty()) {
    return symbol::SymbolService::Open(options_.data_dir + "/core/symbols", passphrase_, sopts);
  }
  // Only while opening: the service keeps the file key, not the wrapper.
  auto opened = token::Pkcs11Token::Open({token::kSoftHsmModule, options_.key_ring_token},
                                         options_.token_pin);
  if (!opened.ok()) return opened.status();
  auto wrapper = (*opened)->MakeWrapper(token::kDefaultKekLabel);
  if (!wrapper.ok()) return wrapper.status();
  sopts.key_wrapper = wrapper->get();
  return symbol::SymbolService::Open(options_.data_dir + "/core/symbols", "", sopts);
}

Result<std::unique_ptr<records::RecordStore>> LocalNetwork::OpenSiteRecords(size_t site) const {
  auto symbols = OpenSymbols();
  if (!symbols.ok()) return symbols.status();
  auto keys = (*symbols)->GetRecordKeys();
  if (!keys.ok()) return keys.status();
  records::RecordStoreOptions ropts;
  ropts.dir = CoreDir(site) + "/records";
  ropts.encryption_keys = std::move(keys->encryption);
  ropts.signing_secret_key = std::move(keys->signing_secret_key);
  ropts.read_only = true;
  return records::RecordStore::Open(std::move(ropts));
}

Result<std::unique_ptr<records::RecordStore>> LocalNetwork::OpenRecords(bool bulk_load) const {
  auto symbols = OpenSymbols();
  if (!symbols.ok()) return symbols.status();
  auto keys = (*symbols)->GetRecordKeys();
  if (!keys.ok()) return keys.status();
  records::RecordStoreOptions ropts;
  ropts.dir = options_.data_dir + "/core/records";
  ropts.encryption_keys = std::move(keys->encryption);
  ropts.signing_secret_key = std::move(keys->signing_secret_key);
  ropts.bulk_load = bulk_load;
  return records::RecordStore::Open(std::move(ropts));
}

}  // namespace ipn::localnet
