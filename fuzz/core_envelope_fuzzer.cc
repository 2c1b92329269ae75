// Fuzz target: a message from an agency's node as the core handles it — the envelope's
// decoding (common/envelope_io.cc), the per-message admission checks
// (core/message_admission.h), a Hello's answer endpoint, and the inquiry lifecycle
// (core/inquiry_broker.h: inquiry, outcome, receipt, deadlines) over the demo policy and
// a real symbol service, on a manual clock. Selector: which agency's node sent it.
//
// Symbols are authenticated, so no fuzzer makes one; an inquirer symbol of the single
// byte 'A' is replaced by person A's genuine symbol at the sending agency, so accepted
// exchanges, forwards, outcomes and receipts are reached too (exchange ids are x1, x2, …).
// Invariant: every record the broker adds is recordable (ValidateRecord), since an
// unrecordable record would stop the core's commit.
#include <sodium.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/logger.h"
#include "common/metrics.h"
#include "common/protobuf_log.h"
#include "core/connected_nodes.h"
#include "core/core_env.h"
#include "core/core_stats.h"
#include "core/inquiry_broker.h"
#include "core/message_admission.h"
#include "core/refusal_ledger.h"
#include "fuzz/fuzz_check.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
#include "policy/policy_store.h"
#include "records/record.h"
#include "symbol/resident_code.h"
#include "symbol/symbol_service.h"

namespace {

using namespace ipn;

constexpr const char* kAgencies[] = {"PEN-0001",    "MUN-131016", "MUN-271004", "INS-0001",
                                     "PREF-130001", "LAB-0001",   "REG-0001",   "PPC-0001"};
constexpr size_t kAgencyCount = sizeof(kAgencies) / sizeof(kAgencies[0]);

class FuzzCoreEnv : public core::CoreEnv {
 public:
  int64_t NowMicros() const override { return now_us; }
  void AddRecord(records::Record record) override {
    FUZZ_CHECK(records::ValidateRecord(record).ok());
    if (!record.request_id.empty()) used.insert({record.inquirer, record.request_id});
  }
  void SendAfterCommit(std::string, v1::Envelope) override {}
  Status SendNow(std::string_view, const v1::Envelope&) override { return Status::Ok(); }
  std::string NewExchangeId(std::string_view, std::string_view) override {
    return "x" + std::to_string(++next_id);
  }
  bool RequestIdRecorded(std::string_view inquirer, std::string_view request_id) override {
    return used.count({std::string(inquirer), std::string(request_id)}) != 0;
  }
  int64_t now_us = 1'796'000'000'000'000;  // 2026-11-30
  uint64_t next_id = 0;
  std::set<std::pair<std::string, std::string>> used;
};

std::string TempDir() {
  char pattern[] = "/tmp/ipn-fuzz-core-XXXXXX";
  FUZZ_CHECK(mkdtemp(pattern) != nullptr);
  return pattern;
}

struct Core {
  Core() {
    std::map<std::string, policy::AgencyOverride> overrides;
    for (size_t i = 0; i < kAgencyCount; ++i) {
      std::array<uint8_t, 32> key{};
      key.fill(static_cast<uint8_t>(i + 1));
      overrides[kAgencies[i]].curve_public_key = key;
    }
    overrides["LAB-0001"].status = policy::AgencyStatus::kSuspended;
    overrides["PREF-130001"].rate_per_second = 1;
    overrides["PREF-130001"].burst = 1;
    admin = policy::GenerateAdminKeyPair();
    policies = std::make_unique<policy::PolicyStore>(admin.public_key);
    auto bundle = policy::BuildDemoBundle(overrides, 1, admin.secret_key.span());
    FUZZ_CHECK(bundle.ok() && policies->Load(*bundle).ok());

    dir = TempDir();
    symbol::SymbolServiceOptions options;
    options.kdf = symbol::KdfStrength::kMinimumForTests;
    options.block_cache_bytes = 1 << 20;
    FUZZ_CHECK(symbol::SymbolService::Create(dir, "fuzz", options).ok());
    auto opened = symbol::SymbolService::Open(dir, "fuzz", options);
    FUZZ_CHECK(opened.ok());
    symbols = std::move(*opened);
    std::string code = "1234567890";
    code.push_back(symbol::ResidentCodeCheckDigit(std::span<const char, 10>(code.data(), 10)));
    for (const char* agency : {"PEN-0001", "MUN-131016", "INS-0001", "PREF-130001"}) {
      auto s = symbols->Issue(code, agency);
      FUZZ_CHECK(s.ok());
      person_a[agency].assign(reinterpret_cast<const char*>(s->bytes.data()), s->bytes.size());
    }
    int port = 7000;
    for (const char* agency : kAgencies) {
      nodes.Connect(agency, "tcp://127.0.0.1:" + std::to_string(++port));
    }
    stats = std::make_unique<core::CoreStats>(metrics);
    log = Logger::Null();
    broker = std::make_unique<core::InquiryBroker>(
        core::InquiryBroker::Deps{&env, policies.get(), symbols.get(), &nodes, stats.get(),
                                  log.get(), &refusals},
        core::BrokerOptions{});
  }
  ~Core() {
    broker.reset();
    symbols.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  void Handle(const std::string& from, v1::Envelope& e) {
    if (!core::CheckAdmissible(e).ok()) {
      refusals.Add(from, "MALFORMED", e.request_id(), env.now_us);
      return;
    }
    switch (e.body_case()) {
      case v1::Envelope::kHello:
        (void)core::CheckAnswerEndpoint(e.hello().answer_endpoint());
        break;
      case v1::Envelope::kInquiry: {
        auto it = person_a.find(from);
        if (e.inquiry().inquirer_symbol() == "A" && it != person_a.end()) {
          e.mutable_inquiry()->set_inquirer_symbol(it->second);
        }
        broker->OnInquiry(from, e);
        break;
      }
      case v1::Envelope::kProvisionOutcome: broker->OnOutcome(from, e); break;
      case v1::Envelope::kReceipt: broker->OnReceipt(from, e); break;
      default: break;
    }
  }

  // The loop's timers: deadlines, the duplicate guard's memory, the refusal tallies.
  void Tick() {
    env.now_us += 250'000;
    broker->ExpireDeadlines();
    broker->Forget();
    for (const core::RefusalTally& t : refusals.TakeDue(env.now_us)) env.AddRecord(t.ToRecord());
    // The durable request index stays bounded: the fuzzer makes millions of ids.
    if (env.used.size() > 100'000) env.used.clear();
  }

  FuzzCoreEnv env;
  policy::AdminKeyPair admin;
  std::unique_ptr<policy::PolicyStore> policies;
  std::string dir;
  std::unique_ptr<symbol::SymbolService> symbols;
  std::map<std::string, std::string> person_a;
  core::ConnectedNodes nodes;
  Metrics metrics;
  std::unique_ptr<core::CoreStats> stats;
  std::unique_ptr<Logger> log;
  core::RefusalLedger refusals;
  std::unique_ptr<core::InquiryBroker> broker;
};

Core* core_under_test = nullptr;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (core_under_test == nullptr) {
    FUZZ_CHECK(sodium_init() >= 0);
    LimitProtobufLog();  // as the daemons: libprotobuf's complaints about bad UTF-8, held
    core_under_test = new Core();
    std::atexit([] { delete core_under_test; });
  }
  const fuzz::FuzzInput in(data, size);
  v1::Envelope envelope;
  // As ReadRouterMessage and ParseInto: a protobuf Envelope of protocol version 1.
  if (envelope.ParseFromArray(in.rest.data(), static_cast<int>(in.rest.size())) &&
      envelope.protocol_version() == v1::PROTOCOL_VERSION_1) {
    core_under_test->Handle(kAgencies[in.selector % kAgencyCount], envelope);
  }
  core_under_test->Tick();
  return 0;
}
