// `ipn oversight desk` and `ipn oversight desk-user`: the commission's desk (issue #17,
// docs/oversight.md "The desk"). The desk pulls the log incrementally through the
// commission's own node, keeps its verified copy encrypted under its data key, re-runs
// the anomaly rules as records arrive and serves the investigators' page on loopback;
// desk-user adds an investigator (password and one-time-code secret) to the accounts file.
#include <signal.h>
#include <sodium.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "common/encoding.h"
#include "common/file_util.h"
#include "interface/agency_client.h"
#include "oversight/anomaly_thresholds.h"
#include "oversight/desk_server.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
#include "policy/policy_store.h"
#include "tools/ipn/commands.h"

namespace ipn::cli {
namespace {

std::atomic<bool> g_desk_stop{false};  // set from the SIGINT/SIGTERM handler only
extern "C" void OnDeskSignal(int) {
  g_desk_stop.store(true);
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "ipn oversight desk: %s\n", message.c_str());
  return 2;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ipn oversight desk: %s\n", s.ToString().c_str());
  return 1;
}

// The commission's node, as the desk's source of pages.
class NodeSource : public oversight::RecordSource {
 public:
  explicit NodeSource(std::unique_ptr<interface::AgencyClient> c) : client_(std::move(c)) {}
  Result<v1::RecordPage> Query(const v1::RecordQuery& q) override {
    return client_->QueryRecords(q, std::chrono::seconds(30));
  }

 private:
  std::unique_ptr<interface::AgencyClient> client_;
};

struct DeskFlags {
  std::string node, dir, data_key, records_key, accounts, listen = "127.0.0.1:8790";
  std::string tariff, admin_key, bundle, thresholds;
  double interval_s = 10, lookback_days = 8;
  uint64_t audit_max_bytes = uint64_t{1} << 30;
};

// The data key file: 64 hex digits. Created (mode 0600) only for a desk that holds nothing
// yet; a desk with a copy and no key is refused (its records could not be read).
Result<SecretBytes> DataKey(const DeskFlags& f) {
  if (::access(f.data_key.c_str(), F_OK) != 0) {
    if (::access((f.dir + "/store/CURRENT").c_str(), F_OK) == 0) {
      return Status::FailedPrecondition("--data-key " + f.data_key +
                                        " is missing, and the desk at " + f.dir +
                                        " holds a copy sealed under it");
    }
    SecretBytes key = SecretBytes::Random(32);
    const std::string hex = HexEncode(key.span()) + "\n";
    IPN_RETURN_IF_ERROR(WriteFileAtomic(f.data_key, hex));
    ::chmod(f.data_key.c_str(), 0600);
    std::fprintf(stderr, "ipn oversight desk: created the data key %s (keep it apart from %s)\n",
                 f.data_key.c_str(), f.dir.c_str());
    return key;
  }
  Result<std::string> text = ReadFile(f.data_key);
  if (!text.ok()) return text.status();
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  Result<std::vector<uint8_t>> bytes = HexDecode(*text);
  sodium_memzero(text->data(), text->size());
  if (!bytes.ok() || bytes->size() != 32) {
    return Status::InvalidArgument("--data-key must hold 64 hex digits");
  }
  SecretBytes key(32);
  std::copy(bytes->begin(), bytes->end(), key.data());
  sodium_memzero(bytes->data(), bytes->size());
  return key;
}

Result<std::shared_ptr<const policy::Policy>> Names(const DeskFlags& f) {
  if (f.bundle.empty()) return policy::LoadDemoPolicy();
  Result<policy::AdminPublicKey> key = policy::ReadAdminPublicKey(f.admin_key);
  if (!key.ok()) return key.status().WithContext("--admin-key");
  policy::PolicyStore store(*key);
  IPN_RETURN_IF_ERROR(store.LoadFile(f.bundle));
  return store.Current();
}

int RunDesk(const DeskFlags& f) {
  const size_t colon = f.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || std::sscanf(f.listen.c_str() + colon + 1, "%d", &port) != 1 ||
      port < 0 || port > 65535) {
    return Usage("--listen must be HOST:PORT");
  }
  const std::string host = f.listen.substr(0, colon);
  if (host != "127.0.0.1" && host != "::1" && host != "localhost") {
    return Usage("--listen: the desk serves on loopback only (put a TLS front end before it)");
  }
  Result<std::vector<uint8_t>> rk = HexDecode(f.records_key);
  if (!rk.ok() || rk->size() != 32) return Usage("--records-key must be 64 hex digits");
  records::PublicKey records_key{};
  std::copy(rk->begin(), rk->end(), records_key.begin());
  if (f.interval_s < 1 || f.interval_s > 3600) return Usage("--interval is 1 to 3600 seconds");
  if (f.lookback_days < 1 || f.lookback_days > 400) return Usage("--lookback-days is 1 to 400");
  if (Status s = EnsureDirectory(f.dir); !s.ok()) return Fail(s);
  Result<SecretBytes> data_key = DataKey(f);
  if (!data_key.ok()) return Fail(data_key.status());
  Result<std::string> accounts_text = ReadFile(f.accounts);
  if (!accounts_text.ok()) return Usage("--accounts: " + accounts_text.status().message());
  Result<std::vector<oversight::Investigator>> accounts =
      oversight::ParseInvestigators(*accounts_text);
  sodium_memzero(accounts_text->data(), accounts_text->size());
  if (!accounts.ok()) return Usage(accounts.status().message());
  if (accounts->empty()) return Usage("--accounts holds no investigator: add one with desk-user");
  Result<std::shared_ptr<const policy::Policy>> names = Names(f);
  if (!names.ok()) return Fail(names.status());
  oversight::AnomalyThresholds thresholds;
  if (!f.thresholds.empty()) {
    Result<oversight::AnomalyThresholds> t = oversight::LoadAnomalyThresholds(f.thresholds);
    if (!t.ok()) return Usage(t.status().message());
    thresholds = *t;
  }
  std::optional<oversight::Tariff> tariff;
  if (!f.tariff.empty()) {
    Result<policy::AdminPublicKey> admin = policy::ReadAdminPublicKey(f.admin_key);
    if (!admin.ok()) return Usage("--admin-key (for --tariff): " + admin.status().message());
    Result<std::string> text = ReadFile(f.tariff);
    if (!text.ok()) return Usage(text.status().message());
    Result<oversight::Tariff> t = oversight::ParseSignedTariff(*text, *admin);
    if (!t.ok()) return Fail(t.status().WithContext(f.tariff));
    tariff = *t;
  }
  Result<std::unique_ptr<interface::AgencyClient>> client =
      interface::AgencyClient::Connect(f.node);
  if (!client.ok()) return Fail(client.status().WithContext("the commission's node"));
  NodeSource source(std::move(*client));

  oversight::DeskStoreOptions so;
  so.dir = f.dir + "/store";
  so.data_key = std::move(*data_key);
  so.records_key = records_key;
  Result<std::unique_ptr<oversight::DeskStore>> store = oversight::DeskStore::Open(std::move(so));
  if (!store.ok()) return Fail(store.status());
  Result<std::unique_ptr<oversight::DeskCases>> cases =
      oversight::DeskCases::Open(f.dir + "/cases.json");
  if (!cases.ok()) return Fail(cases.status());
  SystemClock clock;
  Result<std::unique_ptr<oversight::DeskAudit>> audit =
      oversight::DeskAudit::Open(f.dir + "/audit.log", f.audit_max_bytes, &clock);
  if (!audit.ok()) return Fail(audit.status());
  oversight::DeskAuth auth(std::move(*accounts), &clock);
  // Each investigator's last accepted one-time code, so that a restart does not make it good.
  if (Status kept = auth.KeepStepsIn(f.dir + "/totp_steps"); !kept.ok()) return Fail(kept);

  oversight::DeskServiceOptions o;
  o.store = store->get();
  o.source = &source;
  o.cases = cases->get();
  o.audit = audit->get();
  o.clock = &clock;
  o.thresholds = thresholds;
  o.hours = oversight::DeclaredHours(**names);
  o.anomaly_lookback_us = static_cast<int64_t>(f.lookback_days * 86'400'000'000.0);
  o.tariff = tariff;
  oversight::DeskService service(std::move(o));

  std::unique_ptr<Logger> logger = Logger::Stderr("desk");
  oversight::DeskServerOptions web;
  web.host = host == "localhost" ? "127.0.0.1" : host;
  web.port = port;
  web.service = &service;
  web.auth = &auth;
  web.audit = audit->get();
  web.names = *names;
  web.records_key = records_key;
  web.logger = logger.get();
  web.clock = &clock;
  Result<std::unique_ptr<oversight::DeskServer>> server =
      oversight::DeskServer::Open(std::move(web));
  if (!server.ok()) return Fail(server.status());
  if (Status s = (*server)->Start(); !s.ok()) return Fail(s);

  struct sigaction sa {};
  sa.sa_handler = OnDeskSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  service.StartTimer(static_cast<int64_t>(f.interval_s * 1e6));
  logger->Info("desk_serving",
               {{"url", "http://" + web.host + ":" + std::to_string((*server)->port()) + "/"},
                {"records", std::to_string((*store)->size())}});
  std::fprintf(stderr, "ipn oversight desk: http://%s:%d/ (Ctrl-C stops)\n", web.host.c_str(),
               (*server)->port());
  // For scripts and supervisors (--listen 127.0.0.1:0 takes any free port).
  std::printf("READY port=%d\n", (*server)->port());
  std::fflush(stdout);
  while (!g_desk_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  service.StopTimer();
  (*server)->Stop();
  return 0;
}

struct UserFlags {
  std::string accounts, name;
};

// Reads the password from the terminal without echo (or a line of standard input).
std::string ReadPassword() {
  termios old{};
  const bool tty = isatty(STDIN_FILENO) != 0 && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::fprintf(stderr, "password (12 characters or more): ");
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  }
  return line;
}

int RunDeskUser(const UserFlags& f) {
  std::string existing;
  if (::access(f.accounts.c_str(), F_OK) == 0) {
    Result<std::string> text = ReadFile(f.accounts);
    if (!text.ok()) return Fail(text.status());
    existing = std::move(*text);
    Result<std::vector<oversight::Investigator>> parsed = oversight::ParseInvestigators(existing);
    if (!parsed.ok()) return Usage(parsed.status().message());
    for (const oversight::Investigator& i : *parsed) {
      if (i.name == f.name) return Usage("--name " + f.name + " is already in " + f.accounts);
    }
  }
  std::string password = ReadPassword();
  const SecretBytes secret = SecretBytes::Random(20);
  Result<std::string> line = oversight::InvestigatorLine(f.name, password, secret.span());
  sodium_memzero(password.data(), password.size());
  if (!line.ok()) return Usage(line.status().message());
  if (!existing.empty() && existing.back() != '\n') existing += "\n";
  Status s = WriteFileAtomic(f.accounts, existing + *line + "\n");
  if (!s.ok()) return Fail(s);
  ::chmod(f.accounts.c_str(), 0600);
  // The secret once, for the investigator's authenticator (the desk keeps its own copy).
  std::printf("%s\n", oversight::TotpUri(f.name, secret.span()).c_str());
  return 0;
}

}  // namespace

void RegisterDeskCommand(CLI::App& app, Context& ctx) {
  CLI::App* group = app.get_subcommand("oversight");
  auto f = std::make_shared<DeskFlags>();
  CLI::App* desk = group->add_subcommand(
      "desk", "The commission's desk: a verified, encrypted copy of the log and its web page");
  desk->add_option("--node", f->node, "The commission's node (ipc://PATH)")->required();
  desk->add_option("--dir", f->dir, "The desk's directory (copy, cases, audit log)")->required();
  desk->add_option("--data-key", f->data_key,
                   "The key file sealing the copy (64 hex digits; created for a new desk)")
      ->required();
  desk->add_option("--records-key", f->records_key,
                   "The core's records signing key (hex), as the commission knows it")
      ->required();
  desk->add_option("--accounts", f->accounts, "The investigators' accounts file (desk-user)")
      ->required();
  desk->add_option("--listen", f->listen, "Loopback HOST:PORT")->capture_default_str();
  desk->add_option("--tariff", f->tariff, "The signed tariff file, for fee statements");
  desk->add_option("--admin-key", f->admin_key,
                   "The policy administrator's public key file (for --tariff and --bundle)");
  desk->add_option("--bundle", f->bundle,
                   "Policy bundle for names and office hours (default: demo)");
  desk->add_option("--thresholds", f->thresholds, "Anomaly thresholds file");
  desk->add_option("--interval", f->interval_s, "Seconds between pulls")->capture_default_str();
  desk->add_option("--lookback-days", f->lookback_days,
                   "The rules re-run over this many days before the newest record")
      ->capture_default_str();
  desk->add_option("--audit-max-bytes", f->audit_max_bytes,
                   "The audit log's limit; views stop when it is full")
      ->capture_default_str();
  desk->callback([&ctx, f] { ctx.exit_code = RunDesk(*f); });

  auto u = std::make_shared<UserFlags>();
  CLI::App* user = group->add_subcommand(
      "desk-user",
      "Add an investigator to the desk's accounts file: reads the password, prints the "
      "one-time-code secret as an otpauth:// URI for their authenticator");
  user->add_option("--accounts", u->accounts, "The accounts file (created if missing)")->required();
  user->add_option("--name", u->name, "The investigator's name")->required();
  user->callback([&ctx, u] { ctx.exit_code = RunDeskUser(*u); });
}

}  // namespace ipn::cli
