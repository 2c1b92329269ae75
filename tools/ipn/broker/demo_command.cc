// `ipn demo`: the local demo network on embedded defaults — the core, a registry link and
// three agencies, as real processes on loopback: the municipality and the pension service
// as two tenants of one middle-server platform answering from copies registered from a
// file, the health insurer with a demo agency system — a scripted run of lawful, refused
// and failing inquiries, and a summary (table or --json).
#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "records/record_store.h"
#include "symbol/resident_code.h"
#include "tools/ipn/broker/demo_citizen.h"
#include "tools/ipn/broker/demo_failover.h"
#include "tools/ipn/broker/demo_middle.h"
#include "tools/ipn/broker/demo_scenarios.h"
#include "tools/ipn/broker/demo_witness.h"
#include "tools/ipn/commands.h"
#include "tools/localnet/etcd_cluster.h"

namespace ipn::cli {
namespace {

std::atomic<bool> g_interrupted{false};  // set from the SIGINT/SIGTERM handler only
extern "C" void OnDemoSignal(int) {
  g_interrupted.store(true);
}

std::string SelfDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

// A valid resident code with 10 random digits and its check digit.
std::string RandomResidentCode() {
  std::string code(11, '0');
  for (int i = 0; i < 10; ++i) code[i] = static_cast<char>('0' + randombytes_uniform(10));
  code[10] = symbol::ResidentCodeCheckDigit(std::span<const char, 10>(code.data(), 10));
  return code;
}

Status LoadResidents(const std::string& path, std::vector<std::string>* codes) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read " + path);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    symbol::ResidentCodeRule rule = symbol::CheckResidentCode(line);
    if (rule != symbol::ResidentCodeRule::kValid) {
      sodium_memzero(line.data(), line.size());
      return Status::InvalidArgument(path + " line " + std::to_string(number) + ": " +
                                     symbol::DescribeResidentCodeRule(rule));
    }
    codes->push_back(line);
    sodium_memzero(line.data(), line.size());
  }
  if (codes->empty()) return Status::InvalidArgument(path + " holds no resident codes");
  return Status::Ok();
}

struct DemoFlags {
  bool json = false;
  bool keep_running = false;
  std::string data_dir;
  std::string residents_file;
  int residents = 300;
  std::string bin_dir;
  bool replicated = false;
};

int RunDemo(const DemoFlags& flags) {
  const auto started = std::chrono::steady_clock::now();
  struct sigaction sa {};
  sa.sa_handler = OnDemoSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const bool tty = isatty(STDERR_FILENO) != 0;

  std::vector<std::string> codes;
  if (!flags.residents_file.empty()) {
    Status s = LoadResidents(flags.residents_file, &codes);
    if (!s.ok()) {
      std::fprintf(stderr, "ipn demo: %s\n", s.message().c_str());
      return 2;
    }
  } else {
    for (int i = 0; i < flags.residents; ++i) codes.push_back(RandomResidentCode());
  }
  auto wipe_codes = [&] {
    for (auto& c : codes) sodium_memzero(c.data(), c.size());
  };

  std::string dir = flags.data_dir;
  bool temporary = dir.empty();
  if (temporary) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ipn-demo-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::fprintf(stderr, "ipn demo: cannot create a temporary directory\n");
      return 1;
    }
    dir = tmpl;
  }
  auto cleanup = [&] {
    if (temporary) std::filesystem::remove_all(dir);
  };

  localnet::LocalNetworkOptions options;
  options.data_dir = dir;
  options.bin_dir = flags.bin_dir.empty() ? SelfDir() : flags.bin_dir;
  options.agencies = DemoAgencies();
  options.suspended = DemoSuspended();
  options.provider_deadline_s = 3;
  options.start_portal = true;
  std::unique_ptr<localnet::EtcdCluster> etcd;
  if (flags.replicated) {
    if (!flags.json) std::fprintf(stderr, "ipn demo: starting etcd (east, west, witness)\n");
    auto cluster = localnet::EtcdCluster::Start(dir + "/etcd");
    if (!cluster.ok()) {
      std::fprintf(stderr, "ipn demo: cannot start etcd: %s\n",
                   cluster.status().ToString().c_str());
      wipe_codes();
      cleanup();
      return 1;
    }
    etcd = std::move(*cluster);
    options.sites = {"east", "west"};
    options.etcd_endpoints = etcd->endpoints();
  }
  if (!flags.json) std::fprintf(stderr, "ipn demo: starting the network under %s\n", dir.c_str());
  auto net = localnet::LocalNetwork::Start(options);
  if (!net.ok()) {
    std::fprintf(stderr, "ipn demo: cannot start the network: %s\n",
                 net.status().ToString().c_str());
    wipe_codes();
    cleanup();
    return 1;
  }
  if (!flags.json) {
    std::fprintf(stderr, "ipn demo: core at %s (metrics http://127.0.0.1:%d/metrics)\n",
                 (*net)->core_endpoint().c_str(), (*net)->core_metrics_port());
  }
  // The municipality and the pension service: copies imported, then the platform serving
  // both before any symbol is issued to them (it binds each as it comes).
  MiddleSummary middle;
  auto platform = DemoPlatform::Start(**net, options.bin_dir, codes.size(), &middle);
  Status run = platform.ok() ? Status::Ok() : platform.status().WithContext("middle server");
  if (run.ok() && !flags.json) {
    std::fprintf(stderr, "ipn demo: %s and %s on one middle-server platform (ipn-middle pid %d)\n",
                 middle.tenants[0].c_str(), middle.tenants[1].c_str(), middle.platform_pid);
  }
  DemoSummary summary;
  if (run.ok()) {
    run = RunDemoScenarios(**net, codes, g_interrupted, tty && !flags.json, &summary);
  }
  if (run.ok()) {
    // The citizen side: one resident the demo asked about, given a card linked to them
    // at the portal (they enrol with it through the page).
    Result<DemoCitizen> citizen =
        IssueDemoCitizenCard(**net, options.registry_agency, options.portal_agency, codes,
                             codes.size() / 4, dir + "/cards");
    if (!citizen.ok()) {
      run = citizen.status().WithContext("demo citizen");
    } else {
      summary.portal_url = citizen->portal_url;
      summary.citizen_card = citizen->card_token;
      summary.citizen_card_pin = kDemoCardPin;
      summary.softhsm_conf = citizen->softhsm_conf;
      summary.citizen_index = citizen->index;
    }
  }
  // The commission's witness: the page's trust document, and a first cosigned head that
  // covers everything the scenarios recorded (citizens' histories are proven against it).
  std::unique_ptr<DemoWitness> witness;
  if (run.ok()) {
    Result<std::unique_ptr<DemoWitness>> made =
        DemoWitness::Start(**net, options.bin_dir, dir + "/witness");
    run = (made.ok() ? (*made)->Round() : made.status()).WithContext("the commission's witness");
    if (made.ok()) witness = std::move(*made);
  }
  FailoverSummary failover;
  if (run.ok() && flags.replicated) {
    if (!flags.json) std::fprintf(stderr, "ipn demo: killing the leading core mid-run\n");
    run = RunFailoverPhase(**net, codes.front(), g_interrupted, &failover).WithContext("failover");
  }
  wipe_codes();
  if (run.ok() && flags.keep_running && !g_interrupted.load()) {
    // What a script driving the running demo needs (the browser tests): written last,
    // so its presence means the network is ready.
    nlohmann::json ready = {
        {"portal_url", summary.portal_url},
        {"portal_origin", summary.portal_url.substr(0, summary.portal_url.size() - 1)},
        {"citizen_card", summary.citizen_card},
        {"citizen_card_pin", summary.citizen_card_pin},
        {"softhsm_conf", summary.softhsm_conf},
        {"citizen_index", summary.citizen_index},
        {"card_issuer", (*net)->card_issuer_dir()},
        {"registry_node", (*net)->LocalEndpoint(options.registry_agency)},
        {"commission_node", (*net)->LocalEndpoint("PPC-0001")},
        {"core_log", (*net)->CoreLogPath()}};
    Status wrote = WriteFileAtomic(dir + "/demo-ready.json", ready.dump(2) + "\n");
    if (!wrote.ok()) std::fprintf(stderr, "ipn demo: %s\n", wrote.ToString().c_str());
    std::fprintf(stderr,
                 "ipn demo: running; data under %s.\n"
                 "  disclosure portal: %s\n"
                 "  demo citizen: resident #%d, card %s (PIN %s); to sign the page's challenge:\n"
                 "    SOFTHSM2_CONF=%s ipn card sign --token %s --origin %s --challenge …\n"
                 "  commission's node: %s\n"
                 "Ctrl-C stops everything.\n",
                 dir.c_str(), summary.portal_url.c_str(), summary.citizen_index + 1,
                 summary.citizen_card.c_str(), summary.citizen_card_pin.c_str(),
                 summary.softhsm_conf.c_str(), summary.citizen_card.c_str(),
                 summary.portal_url.substr(0, summary.portal_url.size() - 1).c_str(),
                 (*net)->LocalEndpoint("PPC-0001").c_str());
    // A witness round every few seconds: new records reach citizens' pages once cosigned.
    while (!g_interrupted.load()) {
      sleep(3);  // returns early on Ctrl-C
      if (g_interrupted.load() || witness == nullptr) continue;
      if (Status s = witness->Round(); !s.ok()) {
        std::fprintf(stderr, "ipn demo: witness round: %s\n", s.ToString().c_str());
      }
    }
  }
  if (platform.ok()) {
    Status platform_stopped = (*platform)->Stop(**net, g_interrupted.load(), &middle);
    if (run.ok()) run = platform_stopped.WithContext("middle server");
  }
  Status stopped = (*net)->Stop();

  // The provision records the run left: count and verify them against the signed heads.
  if (run.ok()) {
    auto store = (*net)->OpenRecords();
    if (!store.ok()) {
      run = store.status().WithContext("opening the records");
    } else {
      summary.records = (*store)->Size();
      auto report = (*store)->Verify();
      if (!report.ok()) {
        run = report.status().WithContext("verifying the records");
      } else {
        summary.records_verification =
            report->ok() ? "verified against the signed tree head" : "VERIFICATION FAILED";
        if (!report->ok()) run = Status::Corruption("the provision records do not verify");
      }
      if (run.ok()) run = CountPlatformAnswers(**store, &middle).WithContext("counting answers");
    }
  }
  if (run.ok() && flags.replicated) {
    run = ReconcileSites(**net, &failover).WithContext("reconciling the sites");
    if (run.ok() && (failover.records_lost != 0 || !failover.heads_match)) {
      run = Status::Corruption("the sites' logs disagree with what the inquirer was told");
    }
  }
  net->reset();
  etcd.reset();
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (flags.json) {
    nlohmann::json j = summary.ToJson();
    j["middle"] = middle.ToJson();
    if (flags.replicated) j["failover"] = failover.ToJson();
    j["ok"] = run.ok() && stopped.ok();
    if (!run.ok()) j["error"] = run.ToString();
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s", summary.ToTable().c_str());
    if (platform.ok()) std::printf("%s", middle.ToText().c_str());
    std::printf("%s", summary.PortalLine().c_str());
    if (flags.replicated) std::printf("%s", failover.ToText().c_str());
  }
  cleanup();
  if (!run.ok()) {
    std::fprintf(stderr, "ipn demo: %s\n", run.ToString().c_str());
    return g_interrupted.load() ? 130 : 1;
  }
  if (!stopped.ok()) {
    std::fprintf(stderr, "ipn demo: %s\n", stopped.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<DemoFlags>();
  CLI::App* demo = app.add_subcommand(
      "demo",
      "Run the local demo network: core, registry link, three agencies (two of them on the "
      "middle-server platform), a scripted run");
  demo->add_flag("--json", flags->json, "Print the summary as JSON");
  demo->add_flag("--keep-running", flags->keep_running,
                 "Leave the network up after the run until Ctrl-C");
  demo->add_option("--data-dir", flags->data_dir,
                   "Keep every process's data and logs here (default: a temporary directory, "
                   "removed afterwards)");
  demo->add_option("--residents", flags->residents_file,
                   "File of sample residents' codes, one per line (default: generated)");
  demo->add_option("--count", flags->residents, "How many residents to generate")
      ->capture_default_str()
      ->check(CLI::Range(8, 100000));
  demo->add_option("--bin-dir", flags->bin_dir,
                   "Where ipn-core, ipn-node, ipn-agency, ipn-portal, ipn-middle are");
  demo->add_flag("--replicated", flags->replicated,
                 "The core on two sites (east, west) over etcd with a witness; mid-run the "
                 "leading core is killed: the summary shows failover_ms, records_lost (0) and "
                 "whether both sites' heads match");
  demo->callback([flags, &ctx] { ctx.exit_code = RunDemo(*flags); });
}

}  // namespace ipn::cli
