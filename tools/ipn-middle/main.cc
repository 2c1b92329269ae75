// ipn-middle: the agencies' middle-server platform (DESIGN.md §9, docs/middle.md).
//   ipn-middle import --dir DIR --tenant CODE --file copies.csv [--format csv|jsonl]
//       registers a tenant's copies (creating the tenant on first use), all or nothing
//   ipn-middle serve --dir DIR --tenant CODE=NODE_ENDPOINT [--tenant …] [--api HOST:PORT]
//       serves every tenant's node (creating a tenant on first use): symbols bound in the
//       person map, forwarded inquiries answered from the copies; with --api, the HTTP/JSON
//       API for the tenants' systems and staff (docs/middle.md); HTTPS with --tls TLS_DIR,
//       plain HTTP only on loopback; with --policy BUNDLE --admin-key PUB, copies only of
//       the items each tenant provides under the permitted-link list
//   ipn-middle by-hand --dir DIR --tenant CODE [--item ITEM …]
//       the items the tenant answers by hand in its own system (none: clears them); the
//       platform answers none of them from copies (the API's PUT /v1/by-hand does the same)
//   ipn-middle ca init --dir TLS_DIR --host H [--host …]
//       the platform's own CA and the API's serving certificate for those hosts
//   ipn-middle operator --dir DIR --name NAME
//       creates a platform operator account (password from IPN_MIDDLE_PASSWORD or a
//       prompt) and prints its TOTP enrolment as JSON
// The tenants' data keys are wrapped by the platform key, DIR/platform.key (0600, made on
// first use).
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/encoding.h"
#include "common/file_util.h"
#include "middle/accounts.h"
#include "middle/middle_api.h"
#include "middle/middle_store.h"
#include "middle/platform.h"
#include "middle/provided_items.h"
#include "middle/tls_ca.h"
#include "policy/bundle.h"
#include "tools/daemon/daemon.h"
#include "tools/daemon/last_resort.h"

namespace {

using ipn::Result;
using ipn::Status;

Result<std::unique_ptr<ipn::KeyWrapper>> PlatformKey(const std::string& dir) {
  IPN_RETURN_IF_ERROR(ipn::EnsureDirectory(dir));
  const std::string path = dir + "/platform.key";
  // Made once, exclusively: two first runs at once must not each write a key and lose
  // the first (a tenant made under it could never be opened again).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ipn::SecretBytes fresh = ipn::SecretBytes::Random(32);
    const bool written = ::write(fd, fresh.data(), fresh.size()) == 32 && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
      ::unlink(path.c_str());
      return Status::IoError("cannot write " + path);
    }
  } else if (errno != EEXIST) {
    return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  }
  Result<std::string> bytes = ipn::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != 32) return Status::Corruption(path + " is not a 32-byte key");
  ipn::SecretBytes key(32);
  std::copy(bytes->begin(), bytes->end(), key.data());
  ipn::Wipe(bytes->data(), bytes->size());
  return ipn::MakeSodiumWrapper(std::move(key), "file:" + path);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ipn-middle: %s\n", s.ToString().c_str());
  return 1;
}

int RunImport(const std::string& dir, const std::string& tenant, const std::string& file,
              const std::string& format) {
  auto wrapper = PlatformKey(dir);
  if (!wrapper.ok()) return Fail(wrapper.status());
  auto store = ipn::middle::MiddleStore::Open(dir, wrapper->get());
  if (!store.ok()) return Fail(store.status());
  const auto tenants = (*store)->Tenants();
  if (std::find(tenants.begin(), tenants.end(), tenant) == tenants.end()) {
    if (Status s = (*store)->CreateTenant(tenant); !s.ok()) return Fail(s);
  }
  auto text = ipn::ReadFile(file);
  if (!text.ok()) return Fail(text.status());
  auto applied = (*store)->Import(
      tenant, *text,
      format == "jsonl" ? ipn::middle::ImportFormat::kJsonLines : ipn::middle::ImportFormat::kCsv);
  if (!applied.ok()) return Fail(applied.status().WithContext(file));
  std::printf("%zu copies registered for %s\n", *applied, tenant.c_str());
  return 0;
}

int RunByHand(const std::string& dir, const std::string& tenant,
              const std::vector<std::string>& items) {
  auto wrapper = PlatformKey(dir);
  if (!wrapper.ok()) return Fail(wrapper.status());
  auto store = ipn::middle::MiddleStore::Open(dir, wrapper->get());
  if (!store.ok()) return Fail(store.status());
  const auto tenants = (*store)->Tenants();
  if (std::find(tenants.begin(), tenants.end(), tenant) == tenants.end()) {
    // A typo must not make a stray tenant and leave the real one as it was.
    return Fail(Status::NotFound("no tenant " + tenant + " on this platform"));
  }
  const std::set<std::string> set(items.begin(), items.end());
  if (Status s = (*store)->SetByHandItems(tenant, set); !s.ok()) return Fail(s);
  std::printf("%zu items answered by hand for %s\n", set.size(), tenant.c_str());
  return 0;
}

int RunOperator(const std::string& dir, const std::string& name) {
  auto password = ipn::daemon::ReadPassphrase("Password for " + name + ": ", "IPN_MIDDLE_PASSWORD");
  if (!password.ok()) return Fail(password.status());
  auto wrapper = PlatformKey(dir);
  if (!wrapper.ok()) return Fail(wrapper.status());
  auto store = ipn::middle::MiddleStore::Open(dir, wrapper->get());
  if (!store.ok()) return Fail(store.status());
  const std::string platform(ipn::middle::kPlatformTenant);
  const auto tenants = (*store)->Tenants();
  if (std::find(tenants.begin(), tenants.end(), platform) == tenants.end()) {
    if (Status s = (*store)->CreateTenant(platform); !s.ok()) return Fail(s);
  }
  ipn::SystemClock clock;
  ipn::middle::Accounts accounts(store->get(), &clock);
  auto made = accounts.Create({platform, name, {"operator"}, {}}, *password);
  ipn::Wipe(password->data(), password->size());
  if (!made.ok()) return Fail(made.status());
  const nlohmann::json out = {{"account", name},
                              {"tenant", platform},
                              {"totp_secret", made->totp_secret},
                              {"totp_uri", made->totp_uri}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int RunServe(const std::string& dir, const std::vector<std::string>& tenant_args,
             const std::string& api, const std::string& tls_dir, const std::string& policy_file,
             const std::string& admin_key, const std::string& log_path,
             ipn::daemon::LastResort& last_resort) {
  std::map<std::string, std::string> tenants;
  for (const std::string& t : tenant_args) {
    const size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(Status::InvalidArgument("--tenant takes CODE=NODE_ENDPOINT, not " + t));
    }
    tenants[t.substr(0, eq)] = t.substr(eq + 1);
  }
  auto log = ipn::daemon::OpenLog(log_path, "middle");
  if (!log.ok()) return Fail(log.status());
  ipn::Logger* logger = last_resort.KeepLog(std::move(*log));
  auto wrapper = PlatformKey(dir);
  if (!wrapper.ok()) return Fail(wrapper.status());
  auto store = ipn::middle::MiddleStore::Open(dir, wrapper->get());
  if (!store.ok()) return Fail(store.status());
  const auto known = (*store)->Tenants();
  for (const auto& [code, endpoint] : tenants) {
    if (std::find(known.begin(), known.end(), code) != known.end()) continue;
    if (Status s = (*store)->CreateTenant(code); !s.ok()) return Fail(s);
    logger->Info("middle_tenant_created", {{"tenant", code}});
  }
  static ipn::daemon::Signals signals;
  ipn::daemon::InstallSignalHandlers(&signals);
  static ipn::SystemClock clock;
  ipn::middle::ExchangeLog exchanges(store->get(), &clock);  // the API's and the platform's
  auto platform = ipn::middle::MiddlePlatform::Start(store->get(), tenants, logger, &exchanges);
  if (!platform.ok()) return Fail(platform.status());
  std::unique_ptr<ipn::middle::MiddleApi> http;
  if (!api.empty()) {
    const size_t colon = api.rfind(':');
    ipn::middle::MiddleApiOptions options;
    options.host = api.substr(0, colon);
    try {
      options.port = colon == std::string::npos ? -1 : std::stoi(api.substr(colon + 1));
    } catch (const std::exception&) {
      options.port = -1;
    }
    if (colon == std::string::npos || options.port < 0 || options.port > 65535) {
      return Fail(Status::InvalidArgument("--api takes HOST:PORT (PORT 0: any free port)"));
    }
    options.tls_dir = tls_dir;
    options.exchanges = &exchanges;
    if (!policy_file.empty()) {
      // Only copies of items the tenants provide under the permitted-link list.
      auto key = ipn::policy::ReadAdminPublicKey(admin_key);
      if (!key.ok()) return Fail(key.status().WithContext(admin_key));
      auto file = ipn::ReadFile(policy_file);
      if (!file.ok()) return Fail(file.status());
      auto bytes = ipn::policy::VerifyBundle(ipn::AsBytes(*file), *key);
      if (!bytes.ok()) return Fail(bytes.status().WithContext(policy_file));
      auto policy = ipn::policy::Policy::FromBundleBytes(*bytes);
      if (!policy.ok()) return Fail(policy.status().WithContext(policy_file));
      std::vector<std::string> codes;
      for (const auto& [code, endpoint] : tenants) codes.push_back(code);
      options.provided_items = ipn::middle::ProvidedItemBusinesses(**policy, codes);
    }
    options.store = store->get();
    options.inquirer = platform->get();
    options.log = logger;
    auto started = ipn::middle::MiddleApi::Start(options);
    if (!started.ok()) return Fail(started.status());
    http = std::move(*started);
    logger->Info("middle_api_listening", {{"host", options.host}, {"port", http->port()}});
  }
  ipn::daemon::AnnounceReady("tenants=" + std::to_string(tenants.size()) +
                             (http ? " api_port=" + std::to_string(http->port()) : ""));
  logger->Info("middle_started", {{"tenants", tenants.size()}});
  while (!signals.stop.load() && !(*platform)->failed()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const bool failed = (*platform)->failed();
  logger->Info("middle_stopping", {{"answered", (*platform)->answered()},
                                   {"symbols_bound", (*platform)->symbols_bound()}});
  http.reset();  // it asks through the platform: stopped first
  platform->reset();
  return failed ? 1 : 0;
}

int RunMain(int argc, char** argv, ipn::daemon::LastResort& last_resort) {
  CLI::App app{"ipn-middle: the agencies' middle-server platform"};
  app.require_subcommand(1);
  std::string dir, tenant, file, format = "csv", log_path;
  std::vector<std::string> tenant_args;
  auto* import = app.add_subcommand("import", "Register a tenant's copies from a file");
  import->add_option("--dir", dir, "The platform's directory")->required();
  import->add_option("--tenant", tenant, "The tenant (agency code)")->required();
  import->add_option("--file", file, "CSV or JSON Lines")->required();
  import->add_option("--format", format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  std::vector<std::string> by_hand_items;
  auto* by_hand = app.add_subcommand("by-hand", "Set the items a tenant answers by hand");
  by_hand->add_option("--dir", dir, "The platform's directory")->required();
  by_hand->add_option("--tenant", tenant, "The tenant (agency code)")->required();
  by_hand->add_option("--item", by_hand_items, "An item answered by hand (repeat; none: clear)");
  auto* serve = app.add_subcommand("serve", "Serve every tenant's node");
  serve->add_option("--dir", dir, "The platform's directory")->required();
  serve->add_option("--tenant", tenant_args, "CODE=NODE_ENDPOINT, once per tenant")->required();
  serve->add_option("--log", log_path, "Log file (JSON lines); default stderr");
  std::string api, name;
  std::string tls_dir;
  std::vector<std::string> hosts;
  serve->add_option("--api", api, "Serve the HTTP/JSON API at HOST:PORT (PORT 0: any free)");
  serve->add_option("--tls", tls_dir, "HTTPS with the certificate in this directory (ca init)");
  std::string policy_file, admin_key;
  auto* policy_opt = serve->add_option("--policy", policy_file,
                                       "The signed policy bundle: copies only of items provided");
  serve->add_option("--admin-key", admin_key, "The policy administrator's public key")
      ->needs(policy_opt);
  policy_opt->needs("--admin-key");
  auto* ca = app.add_subcommand("ca", "The platform's own CA for the API's HTTPS");
  auto* ca_init = ca->add_subcommand("init", "Create the CA and the API's serving certificate");
  ca->require_subcommand(1);
  ca_init->add_option("--dir", tls_dir, "Where the CA and certificates go")->required();
  ca_init->add_option("--host", hosts, "An IP address or DNS name the API serves")->required();
  auto* op = app.add_subcommand("operator", "Create a platform operator account");
  op->add_option("--dir", dir, "The platform's directory")->required();
  op->add_option("--name", name, "The operator's account name")->required();
  CLI11_PARSE(app, argc, argv);
  if (import->parsed()) return RunImport(dir, tenant, file, format);
  if (op->parsed()) return RunOperator(dir, name);
  if (by_hand->parsed()) return RunByHand(dir, tenant, by_hand_items);
  if (ca_init->parsed()) {
    Status made = ipn::middle::InitTlsCa(tls_dir, hosts, std::time(nullptr));
    if (!made.ok()) return Fail(made);
    std::printf("CA and serving certificate in %s; give clients %s\n", tls_dir.c_str(),
                ipn::middle::TlsFilesIn(tls_dir).ca_certificate.c_str());
    return 0;
  }
  return RunServe(dir, tenant_args, api, tls_dir, policy_file, admin_key, log_path, last_resort);
}

}  // namespace

int main(int argc, char** argv) {
  ipn::daemon::LastResort last_resort("ipn-middle");
  return last_resort.Run([&] { return RunMain(argc, argv, last_resort); });
}
