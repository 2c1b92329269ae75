// The demo's middle-server platform (see the header).
#include "tools/ipn/broker/demo_middle.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>

#include "common/encoding.h"
#include "common/file_util.h"
#include "ipn/v1/wire_names.h"
#include "middle/provided_items.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "records/record_store.h"
#include "tools/ipn/broker/demo_copies.h"

namespace ipn::cli {
namespace {

// The items each tenant provides under the network's own permitted-link list: its signed
// bundle, checked against the policy administrator's key as the core checks it.
Result<std::map<std::string, std::set<std::string>>> ProvidedItemsOf(
    const localnet::LocalNetwork& net, const std::vector<std::string>& tenants) {
  const std::string dir = net.data_dir() + "/policy";
  auto key = policy::ReadAdminPublicKey(dir + "/admin.pub");
  if (!key.ok()) return key.status().WithContext("the policy administrator's key");
  auto file = ReadFile(dir + "/bundle.ipnp");
  if (!file.ok()) return file.status();
  auto bytes = policy::VerifyBundle(AsBytes(*file), *key);
  if (!bytes.ok()) return bytes.status().WithContext("the policy bundle");
  auto policy = policy::Policy::FromBundleBytes(*bytes);
  if (!policy.ok()) return policy.status().WithContext("the policy bundle");
  return middle::ProvidedItems(**policy, tenants);
}

// Today (local time), YYYY-MM-DD: the copies' as-of date.
std::string Today() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char date[16];
  std::strftime(date, sizeof(date), "%Y-%m-%d", &local);
  return date;
}

// `ipn-middle import` of one tenant's copies file: the rows it says it registered.
Result<size_t> ImportCopies(const std::string& bin_dir, const std::string& dir,
                            const std::string& tenant, const std::string& csv) {
  const std::string out = dir + "/import-" + tenant + ".out";
  const std::string err = dir + "/import.stderr";
  auto code = RunToCompletion(
      {bin_dir + "/ipn-middle", "import", "--dir", dir, "--tenant", tenant, "--file", csv}, out,
      err);
  if (!code.ok()) return code.status();
  auto said = ReadFile(out);
  if (*code != 0 || !said.ok()) {
    return Status::Internal("ipn-middle import exited " + std::to_string(*code) + " (see " + err +
                            ")");
  }
  // "N copies registered for TENANT"
  unsigned long long rows = 0;
  if (std::sscanf(said->c_str(), "%llu copies registered", &rows) != 1) {
    return Status::Internal("ipn-middle import said: " + *said);
  }
  return static_cast<size_t>(rows);
}

// The platform's own count of forwarded inquiries it answered, which it logs as it stops
// ("middle_stopping"); -1 when the log does not say.
int64_t PlatformCount(const std::string& log_path) {
  auto text = ReadFile(log_path);
  if (!text.ok()) return -1;
  int64_t answered = -1;
  size_t at = 0;
  while (at < text->size()) {
    size_t end = text->find('\n', at);
    if (end == std::string::npos) end = text->size();
    const auto line = nlohmann::json::parse(text->substr(at, end - at), nullptr, false);
    if (line.is_object() && line.value("event", "") == "middle_stopping" &&
        line.contains("answered") && line["answered"].is_number_unsigned()) {
      answered = line["answered"].get<int64_t>();
    }
    at = end + 1;
  }
  return answered;
}

}  // namespace

// Runs a tool to its end, its stdout to `out`, its stderr appended to `err`; its exit code.
Result<int> RunToCompletion(const std::vector<std::string>& argv, const std::string& out,
                            const std::string& err) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int started = posix_spawn(&pid, args[0], &files, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (started != 0) return Status::IoError("cannot start " + argv[0] + ": " + strerror(started));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::IoError("waiting for " + argv[0] + ": " + strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> DemoPlatformTenants() {
  return {"MUN-131016", "PEN-0001"};
}

Result<std::unique_ptr<DemoPlatform>> DemoPlatform::Start(const localnet::LocalNetwork& net,
                                                          const std::string& bin_dir,
                                                          size_t residents,
                                                          MiddleSummary* summary) {
  std::unique_ptr<DemoPlatform> platform(new DemoPlatform());
  platform->dir_ = net.data_dir() + "/middle";
  const std::string copies_dir = net.data_dir() + "/copies";
  IPN_RETURN_IF_ERROR(EnsureDirectory(platform->dir_));
  IPN_RETURN_IF_ERROR(EnsureDirectory(copies_dir));
  summary->tenants = DemoPlatformTenants();
  auto items = ProvidedItemsOf(net, summary->tenants);
  if (!items.ok()) return items.status();
  const std::string as_of = Today();
  // Registered from a file while the platform is stopped (import and serve share its store).
  for (const std::string& tenant : summary->tenants) {
    const CopiesFile file = DemoCopiesCsv(tenant, residents, (*items)[tenant], as_of);
    const std::string csv = copies_dir + "/" + tenant + ".csv";
    IPN_RETURN_IF_ERROR(WriteFileAtomic(csv, file.csv));
    auto rows = ImportCopies(bin_dir, platform->dir_, tenant, csv);
    if (!rows.ok()) return rows.status().WithContext(tenant + "'s copies");
    if (*rows != file.rows) {
      return Status::Internal(tenant + ": ipn-middle import registered " + std::to_string(*rows) +
                              " of " + std::to_string(file.rows) + " copies");
    }
    summary->copies_imported[tenant] = *rows;
  }
  std::vector<std::string> argv = {bin_dir + "/ipn-middle", "serve", "--dir", platform->dir_};
  for (const std::string& tenant : summary->tenants) {
    argv.push_back("--tenant");
    argv.push_back(tenant + "=" + net.LocalEndpoint(tenant));
  }
  argv.push_back("--log");
  argv.push_back(platform->dir_ + "/middle.log");
  auto serve = localnet::ChildProcess::Start(argv, {}, platform->dir_ + "/middle.stderr");
  if (!serve.ok()) return serve.status().WithContext("ipn-middle serve");
  platform->serve_ = std::move(*serve);
  auto ready = platform->serve_.WaitReady(std::chrono::seconds(20));
  if (!ready.ok()) return ready.status().WithContext("ipn-middle serve");
  summary->platform_pid = platform->serve_.pid();
  return platform;
}

Status DemoPlatform::Stop(const localnet::LocalNetwork& net, bool interrupted,
                          MiddleSummary* summary) {
  summary->other_programs = 0;
  const std::map<std::string, pid_t> running = net.ProcessIds();
  for (const std::string& tenant : summary->tenants) {
    summary->other_programs += static_cast<int>(running.count("agency:" + tenant));
  }
  const bool was_serving = serve_.running();
  const int code = serve_.Stop();
  summary->platform_answered = PlatformCount(dir_ + "/middle.log");
  if (interrupted) return Status::Ok();
  if (!was_serving || code != 0) {
    return Status::Unavailable("the middle-server platform stopped serving (exit " +
                               std::to_string(code) + "; see " + dir_ + "/middle.log)");
  }
  return Status::Ok();
}

Status CountPlatformAnswers(const records::RecordStore& store, MiddleSummary* summary) {
  const std::set<std::string> tenants(summary->tenants.begin(), summary->tenants.end());
  const std::string not_held(v1::OutcomeName(v1::OUTCOME_NOT_HELD));
  for (const std::string& tenant : summary->tenants) summary->answers[tenant] = {};
  return store.Pull(0, INT64_MAX, "", [&](const records::Record& r) {
    if (tenants.count(r.provider) == 0) return true;
    MiddleSummary::Answers& a = summary->answers[r.provider];
    switch (r.event) {
      case records::Event::kProvided:
        ++a.provided;
        a.non_disclosure += r.non_disclosure ? 1 : 0;
        break;
      case records::Event::kNotHeld:
        // The core's own "never issued to the provider" carries its reason instead.
        a.not_held += r.outcome == not_held ? 1 : 0;
        break;
      case records::Event::kFailed: ++a.failed; break;
      default: break;
    }
    return true;
  });
}

uint64_t MiddleSummary::answered() const {
  uint64_t n = 0;
  for (const auto& [tenant, a] : answers) n += a.provided + a.not_held;
  return n;
}

nlohmann::json MiddleSummary::ToJson() const {
  nlohmann::json j;
  j["platform"] = "ipn-middle";
  j["tenants"] = tenants;
  j["copies_imported"] = copies_imported;
  j["other_programs"] = other_programs;
  j["answered"] = answered();
  j["platform_answered"] = platform_answered;
  j["answers"] = nlohmann::json::object();
  for (const auto& [tenant, a] : answers) {
    j["answers"][tenant] = {{"provided", a.provided},
                            {"non_disclosure", a.non_disclosure},
                            {"not_held", a.not_held},
                            {"failed", a.failed}};
  }
  return j;
}

std::string MiddleSummary::ToText() const {
  std::string names, imported;
  for (const std::string& tenant : tenants) {
    names += (names.empty() ? "" : " and ") + tenant;
    auto rows = copies_imported.find(tenant);
    imported += (imported.empty() ? "" : ", ") + tenant + " " +
                std::to_string(rows == copies_imported.end() ? 0 : rows->second) + " rows";
  }
  std::string out =
      "middle-server platform (one ipn-middle, pid " + std::to_string(platform_pid) + "): " + names;
  out += other_programs == 0 ? " ran no program of their own\n"
         : other_programs < 0
             ? " (their own programs not checked)\n"
             : " — yet " + std::to_string(other_programs) + " programs of their own ran too\n";
  out += "  copies registered from a file (ipn-middle import): " + imported + "\n";
  out += "  provisions answered automatically from the copies: " + std::to_string(answered());
  if (platform_answered >= 0) {
    out += " (the platform counted " + std::to_string(platform_answered) + ")";
  }
  out += "\n";
  for (const auto& [tenant, a] : answers) {
    char line[160];
    std::snprintf(line, sizeof(line), "    %-11s provided %llu", (tenant + ":").c_str(),
                  static_cast<unsigned long long>(a.provided));
    out += line;
    if (a.non_disclosure > 0) out += " (" + std::to_string(a.non_disclosure) + " non-disclosure)";
    out += ", not held " + std::to_string(a.not_held);
    if (a.failed > 0) out += ", failed " + std::to_string(a.failed);
    out += "\n";
  }
  return out;
}

}  // namespace ipn::cli
