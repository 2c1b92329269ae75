// `ipn keys`: the core key ring's lifecycle for operators — init (new key ring and empty
// issuance file), add (an agency's keys before its first issuance), rotate (new active key version
// for an agency, or a new record encryption key), retire (destroy a retired agency key version),
// list, passphrase; and the two-person rule for rotate and retire (policy/key_change.h):
// request (the change, bound to the ring's state), approve (a key custodian's approval),
// then rotate/retire --request. The passphrase comes from IPN_PASSPHRASE or a prompt; IPN_KDF /
// --kdf sets the cost of the passphrase derivation for a new key ring. Every change and every
// refusal is logged to DIR/operations.log.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include "common/file_util.h"
#include "common/logger.h"
#include "policy/key_change.h"
#include "policy/two_person.h"
#include "symbol/passphrase.h"
#include "symbol/symbol_service.h"
#include "tools/ipn/approval_file.h"
#include "tools/ipn/commands.h"
#include "tools/ipn/key_ring_session.h"

namespace ipn::cli {
namespace {

using symbol::KdfStrength;
using symbol::SymbolService;
using symbol::SymbolServiceOptions;

constexpr size_t kMinPassphrase = 12;

struct KeysArgs {
  std::string dir;
  std::string kdf;
  std::string agency;
  bool records = false;
  int version = 0;
  std::string request;  // the approved key change request (two-person rule)
  std::string roster;   // default: DIR/operator_roster.txt when it exists
  std::string output;   // request: where to write it (default stdout)
  ApproverArgs approver;
};

// What a rotate or retire changes, as a key change request names it.
std::string ChangeName(const KeysArgs& a, bool retire) {
  if (retire) return "retire " + a.agency + " " + std::to_string(a.version);
  return a.records ? std::string("rotate-records") : "rotate-agency " + a.agency;
}

// The two-person rule before a rotate or retire: when the roster (DIR/operator_roster.txt,
// the core's copy, or else --roster) requires approvals for key changes, the request and its
// approvals must be there, for exactly this change of the ring as it is now. Returns the
// approvers ("" when no approvals are required). Refusals are logged.
Result<std::string> CheckTwoPersonRule(const KeysArgs& a, const std::string& what,
                                       KeyRingSession& session) {
  // The core's own copy beside the ring wins: another roster given on the command line
  // cannot loosen the rule the core enforces (--roster serves a ring no core has opened).
  std::string roster_path = a.roster;
  if (std::filesystem::exists(a.dir + "/operator_roster.txt")) {
    roster_path = a.dir + "/operator_roster.txt";
  }
  if (roster_path.empty()) return std::string();
  Result<policy::OperatorRoster> roster = policy::LoadOperatorRoster(roster_path);
  if (!roster.ok()) return roster.status().WithContext("operator roster");
  if (roster->rules.count(policy::kKeyChangeAction) == 0) return std::string();
  auto refuse = [&](const Status& s) -> Result<std::string> {
    if (session.log) session.log->Warn("keys.refused", {{"change", what}, {"reason", s.message()}});
    return s;
  };
  if (a.request.empty()) {
    return refuse(Status::PermissionDenied(
        "the operator roster requires approvals for key changes: ipn keys request, then "
        "two approvals (ipn keys approve), then --request FILE"));
  }
  Result<std::string> request = ReadFile(a.request);
  if (!request.ok()) return refuse(request.status());
  Result<std::string> approvals = ReadFile(a.request + ".approvals");
  Result<std::vector<std::string>> approvers =
      policy::CheckKeyChange(*roster, *request, approvals.ok() ? *approvals : std::string(), what,
                             session.service->KeySummary());
  if (!approvers.ok()) return refuse(approvers.status());
  return policy::JoinApprovers(*approvers);
}

// After the change: the journal the core reads at its next start to name the approvers.
// A change whose journal line cannot be written is reported as a failure: the core will
// record it as unapproved at its next start.
Status JournalChange(const KeysArgs& a, const std::string& what, const std::string& approvers,
                     const std::string& before, KeyRingSession& session) {
  if (approvers.empty()) {  // no rule in force: journalled all the same, by the operator
    Status s =
        policy::JournalKeyChangeBy(a.dir, before, session.service->KeySummary(), what, "operator");
    return s.ok() ? s : s.WithContext("the change was made but not journalled");
  }
  Result<std::string> request = ReadFile(a.request);
  Result<std::string> approvals = ReadFile(a.request + ".approvals");
  Status s = request.ok() && approvals.ok()
                 ? policy::JournalKeyChange(a.dir, before, session.service->KeySummary(), *request,
                                            *approvals)
                 : Status::IoError("the request or its approvals could not be read again");
  if (session.log) {
    session.log->Info("keys.approved_change",
                      {{"change", what}, {"approvers", approvers}, {"journal", s.ok()}});
  }
  return s.ok() ? s
                : s.WithContext(
                      "the change was made but not journalled; the core will record "
                      "it as unapproved");
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ipn keys: %s\n", s.ToString().c_str());
  return 1;
}

Result<KdfStrength> ChosenKdf(const std::string& flag) {
  std::string text = flag;
  if (text.empty()) {
    const char* env = std::getenv("IPN_KDF");
    text = env != nullptr ? env : "interactive";
  }
  return symbol::ParseKdfStrength(text);
}

Status CheckNewPassphrase(const SecretBytes& passphrase, KdfStrength kdf) {
  if (passphrase.empty()) return Status::InvalidArgument("the passphrase must not be empty");
  if (kdf != KdfStrength::kMinimumForTests && passphrase.size() < kMinPassphrase) {
    return Status::InvalidArgument("the passphrase must be at least 12 characters");
  }
  return Status::Ok();
}

std::string UtcTime(int64_t micros) {
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int RunInit(const KeysArgs& a) {
  auto kdf = ChosenKdf(a.kdf);
  if (!kdf.ok()) return Fail(kdf.status());
  auto passphrase = symbol::ReadPassphrase("New key ring passphrase: ", /*confirm=*/true);
  if (!passphrase.ok()) return Fail(passphrase.status());
  Status ok = CheckNewPassphrase(*passphrase, *kdf);
  if (!ok.ok()) return Fail(ok);
  SymbolServiceOptions options;
  options.kdf = *kdf;
  Status created = SymbolService::Create(a.dir, symbol::AsStringView(*passphrase), options);
  if (!created.ok()) return Fail(created);
  if (auto log = OperationsLog(a.dir, "ipn-keys")) {
    log->Info("keys.init", {{"dir", a.dir}, {"kdf", symbol::KdfStrengthName(*kdf)}});
  }
  std::printf("created the key ring %s/%s and an empty issuance file %s/%s (key derivation: %s)\n",
              a.dir.c_str(), SymbolService::kKeyRingFileName, a.dir.c_str(),
              SymbolService::kIssuanceDirName, symbol::KdfStrengthName(*kdf));
  if (*kdf == KdfStrength::kMinimumForTests) {
    std::fprintf(stderr,
                 "ipn keys: warning: minimum key derivation is for tests only; do not use it "
                 "for a real key ring\n");
  }
  return 0;
}

int RunRotate(const KeysArgs& a) {
  if (a.agency.empty() == !a.records) {
    return Fail(Status::InvalidArgument("give exactly one of --agency CODE or --records"));
  }
  auto session = OpenKeyRingSession(a.dir, "ipn-keys");
  if (!session.ok()) return Fail(session.status());
  const std::string what = ChangeName(a, false);
  Result<std::string> approvers = CheckTwoPersonRule(a, what, *session);
  if (!approvers.ok()) return Fail(approvers.status());
  const std::string before = session->service->KeySummary();
  if (a.records) {
    auto version = session->service->RotateRecordEncryptionKey();
    if (!version.ok()) return Fail(version.status());
    if (Status j = JournalChange(a, what, *approvers, before, *session); !j.ok()) return Fail(j);
    std::printf("record encryption key version %u is now the newest\n", *version);
    return 0;
  }
  auto version = session->service->RotateAgencyKey(a.agency);
  if (!version.ok()) return Fail(version.status());
  if (Status j = JournalChange(a, what, *approvers, before, *session); !j.ok()) return Fail(j);
  std::printf(
      "agency %s: key version %u is now active; version %u is retired (its symbols "
      "still open)\n",
      a.agency.c_str(), *version, static_cast<unsigned>(*version - 1));
  return 0;
}

// A replicated core's sites share one key ring and create no agency keys on first use:
// the keys are made here, once, and the ring copied to every site (docs/operations.md).
int RunAdd(const KeysArgs& a) {
  auto session = OpenKeyRingSession(a.dir, "ipn-keys");
  if (!session.ok()) return Fail(session.status());
  const std::string before = session->service->KeySummary();
  Status s = session->service->EnsureAgencyKeys(a.agency);
  if (!s.ok()) return Fail(s);
  const std::string after = session->service->KeySummary();
  // A creation needs no approvals; journalled so that the chain of changes the core checks
  // at its next start stays unbroken.
  if (after != before) {
    s = policy::JournalKeyCreation(a.dir, before, after, a.agency, "ipn keys add");
    if (!s.ok()) return Fail(s.WithContext("the keys were made but not journalled"));
  }
  std::printf("agency %s has keys (copy the key ring to every site of a replicated core)\n",
              a.agency.c_str());
  return 0;
}

int RunRetire(const KeysArgs& a) {
  if (a.version < 1 || a.version > 0xffff) {
    return Fail(Status::InvalidArgument("--version must be between 1 and 65535"));
  }
  auto session = OpenKeyRingSession(a.dir, "ipn-keys");
  if (!session.ok()) return Fail(session.status());
  const std::string what = ChangeName(a, true);
  Result<std::string> approvers = CheckTwoPersonRule(a, what, *session);
  if (!approvers.ok()) return Fail(approvers.status());
  const std::string before = session->service->KeySummary();
  Status s = session->service->DestroyKeyVersion(a.agency, static_cast<uint16_t>(a.version));
  if (!s.ok()) return Fail(s);
  if (Status j = JournalChange(a, what, *approvers, before, *session); !j.ok()) return Fail(j);
  std::printf("agency %s: key version %d destroyed; symbols under it are now rejected\n",
              a.agency.c_str(), a.version);
  return 0;
}

// The request two key custodians approve: the change, bound to the ring as it is now.
int RunRequest(const KeysArgs& a) {
  const bool retire = a.version != 0;
  if (retire ? (a.agency.empty() || a.records) : (a.agency.empty() == !a.records)) {
    return Fail(Status::InvalidArgument(
        "give --agency CODE (rotate), --records (rotate), or --agency CODE --version N (retire)"));
  }
  auto session = OpenKeyRingSession(a.dir, "ipn-keys");
  if (!session.ok()) return Fail(session.status());
  policy::KeyChange change;
  change.what = ChangeName(a, retire);
  change.ring_before = policy::RingStateHash(session->service->KeySummary());
  const std::string text = policy::FormatKeyChangeRequest(change);
  if (session->log) session->log->Info("keys.requested", {{"change", change.what}});
  if (a.output.empty()) {
    std::printf("%s", text.c_str());
    return 0;
  }
  Status s = WriteFileAtomic(a.output, text);
  if (!s.ok()) return Fail(s);
  std::printf(
      "request for '%s' written to %s; it needs approvals (ipn keys approve --request %s)\n",
      change.what.c_str(), a.output.c_str(), a.output.c_str());
  return 0;
}

int RunList(const KeysArgs& a) {
  auto session = OpenKeyRingSession(a.dir, "ipn-keys");
  if (!session.ok()) return Fail(session.status());
  auto keys = session->service->ListKeys();
  std::printf("%-16s %7s  %-9s  %-20s  %-20s\n", "AGENCY", "VERSION", "STATE", "CREATED",
              "CHANGED");
  for (const auto& k : keys) {
    std::printf("%-16s %7u  %-9s  %-20s  %-20s\n", k.agency.c_str(), k.version,
                symbol::KeyStateName(k.state), UtcTime(k.created_us).c_str(),
                UtcTime(k.changed_us).c_str());
  }
  auto record = session->service->GetRecordKeys();
  if (record.ok()) {
    std::printf("record encryption key versions: %zu (newest %u)\n", record->encryption.size(),
                record->encryption.back().first);
  }
  if (keys.empty()) std::printf("no agency keys yet (they are created on first issuance)\n");
  return 0;
}

int RunPassphrase(const KeysArgs& a) {
  auto kdf = ChosenKdf(a.kdf);
  if (!kdf.ok()) return Fail(kdf.status());
  auto session = OpenKeyRingSession(a.dir, "ipn-keys");
  if (!session.ok()) return Fail(session.status());
  auto fresh = symbol::ReadPassphrase("New key ring passphrase: ", true, "IPN_NEW_PASSPHRASE");
  if (!fresh.ok()) return Fail(fresh.status());
  Status ok = CheckNewPassphrase(*fresh, *kdf);
  if (!ok.ok()) return Fail(ok);
  Status s = session->service->ChangePassphrase(symbol::AsStringView(*fresh), *kdf);
  if (!s.ok()) return Fail(s);
  std::printf("the key ring is now encrypted under the new passphrase\n");
  return 0;
}

}  // namespace

void RegisterKeysCommand(CLI::App& app, Context& ctx) {
  auto* keys = app.add_subcommand("keys", "Manage the core key ring (symbols, records)");
  keys->require_subcommand(1);
  auto args = std::make_shared<KeysArgs>();
  const char* kdf_help =
      "Cost of the passphrase derivation: interactive (default), moderate, or minimum "
      "(tests only); default from IPN_KDF";

  auto* init =
      keys->add_subcommand("init", "Create a new key ring and an empty issuance file under DIR");
  init->add_option("--dir", args->dir, "Directory of the key ring")->required();
  init->add_option("--kdf", args->kdf, kdf_help);
  init->callback([&ctx, args] { ctx.exit_code = RunInit(*args); });

  auto* rotate = keys->add_subcommand(
      "rotate", "Make a new key version active for an agency (the old one is retired)");
  rotate->add_option("--dir", args->dir, "Directory of the key ring")->required();
  rotate->add_option("--agency", args->agency, "Agency code, e.g. MUN-131016");
  rotate->add_flag("--records", args->records,
                   "Rotate the provision-record encryption key instead");
  const char* request_help = "The approved key change request (ipn keys request; FILE.approvals)";
  const char* roster_help =
      "Operator roster, for a ring no core has opened yet (DIR/operator_roster.txt, the core's "
      "copy, wins when it exists)";
  rotate->add_option("--request", args->request, request_help);
  rotate->add_option("--roster", args->roster, roster_help);
  rotate->callback([&ctx, args] { ctx.exit_code = RunRotate(*args); });

  auto* add = keys->add_subcommand(
      "add", "Create an agency's keys now, not at its first issuance (replicated cores)");
  add->add_option("--dir", args->dir, "Directory of the key ring")->required();
  add->add_option("--agency", args->agency, "Agency code, e.g. MUN-131016")->required();
  add->callback([&ctx, args] { ctx.exit_code = RunAdd(*args); });

  auto* retire = keys->add_subcommand(
      "retire", "Destroy a retired key version of an agency; its symbols are then rejected");
  retire->alias("destroy");
  retire->add_option("--dir", args->dir, "Directory of the key ring")->required();
  retire->add_option("--agency", args->agency, "Agency code")->required();
  retire->add_option("--version", args->version, "Key version to destroy")->required();
  retire->add_option("--request", args->request, request_help);
  retire->add_option("--roster", args->roster, roster_help);
  retire->callback([&ctx, args] { ctx.exit_code = RunRetire(*args); });

  auto* request = keys->add_subcommand(
      "request",
      "Write a key change request for two key custodians to approve (rotate: --agency "
      "or --records; retire: --agency --version)");
  request->add_option("--dir", args->dir, "Directory of the key ring")->required();
  request->add_option("--agency", args->agency, "Agency code");
  request->add_flag("--records", args->records, "The provision-record encryption key");
  request->add_option("--version", args->version, "Retire: the key version to destroy");
  request->add_option("--output", args->output, "Write the request here (default: stdout)");
  request->callback([&ctx, args] { ctx.exit_code = RunRequest(*args); });

  auto* approve = keys->add_subcommand(
      "approve", "Add your approval of a key change request (REQUEST.approvals)");
  approve->add_option("--request", args->request, "The key change request")->required();
  AddApproverOptions(*approve, args->approver);
  approve->callback([&ctx, args] {
    Result<size_t> n = AddApproval(args->approver, policy::kKeyChangeAction, args->request,
                                   args->request + ".approvals");
    ctx.exit_code = n.ok() ? 0 : Fail(n.status());
    if (n.ok()) {
      std::printf("%s approves %s (%zu approval(s))\n", args->approver.operator_id.c_str(),
                  args->request.c_str(), *n);
    }
  });

  auto* list = keys->add_subcommand("list", "List agency key versions and their states");
  list->add_option("--dir", args->dir, "Directory of the key ring")->required();
  list->callback([&ctx, args] { ctx.exit_code = RunList(*args); });

  auto* pass = keys->add_subcommand(
      "passphrase", "Re-encrypt the key ring under a new passphrase (IPN_NEW_PASSPHRASE)");
  pass->add_option("--dir", args->dir, "Directory of the key ring")->required();
  pass->add_option("--kdf", args->kdf, kdf_help);
  pass->callback([&ctx, args] { ctx.exit_code = RunPassphrase(*args); });
}

}  // namespace ipn::cli
