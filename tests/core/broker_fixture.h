// BrokerFixture: an InquiryBroker over the demo policy (every agency with a node key,
// LAB-0001 suspended, PREF-130001 held to one inquiry per second), a real symbol service
// in a temp dir with two people, every node connected, and a FakeCoreEnv on a manual
// clock. No process, no socket.
//
// The people: A is issued to PEN-0001, MUN-131016, INS-0001 and PREF-130001; B only to
// PEN-0001 (so MUN-131016 never had B: "not held" at the core).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/logger.h"
#include "common/metrics.h"
#include "core/connected_nodes.h"
#include "core/core_stats.h"
#include "core/inquiry_broker.h"
#include "core/refusal_ledger.h"
#include "policy/bundle.h"
#include "policy/demo_policy.h"
#include "policy/jst_date.h"
#include "policy/policy_store.h"
#include "symbol/symbol_service.h"
#include "tests/core/fake_core_env.h"
#include "tests/support/temp_dir.h"
#include "tests/symbol/test_codes.h"

namespace ipn::core::testing {

inline constexpr char kPension[] = "PEN-0001";
inline constexpr char kChiyoda[] = "MUN-131016";
inline constexpr char kOsaka[] = "MUN-271004";
inline constexpr char kInsurer[] = "INS-0001";
inline constexpr char kLabour[] = "LAB-0001";
inline constexpr char kTokyo[] = "PREF-130001";
inline constexpr int64_t kDeadlineUs = 5'000'000;
inline constexpr int64_t kRememberUs = 600'000'000;
inline constexpr int64_t kReceiptGraceUs = 2'000'000;

class BrokerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::map<std::string, policy::AgencyOverride> overrides;
    for (const char* code : {"PEN-0001", "MHLW-0001", "MUN-131016", "MUN-271004", "MUN-401307",
                             "PREF-130001", "PREF-400009", "INS-0001", "UNION-400009", "EDU-401307",
                             "LAB-0001", "PORTAL-0001", "REG-0001", "PPC-0001"}) {
      std::array<uint8_t, 32> key{};
      key.fill(static_cast<uint8_t>(overrides.size() + 1));
      overrides[code].curve_public_key = key;
    }
    overrides[kLabour].status = policy::AgencyStatus::kSuspended;
    overrides[kTokyo].rate_per_second = 1;
    overrides[kTokyo].burst = 1;
    admin_ = policy::GenerateAdminKeyPair();
    policy_ = std::make_unique<policy::PolicyStore>(admin_.public_key);
    auto bundle = policy::BuildDemoBundle(overrides, 1, admin_.secret_key.span());
    ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
    ASSERT_TRUE(policy_->Load(*bundle).ok());

    const std::string dir = dir_.Sub("symbols");
    ASSERT_TRUE(symbol::SymbolService::Create(dir, "pass", symbol::testing::FastOptions()).ok());
    auto symbols = symbol::SymbolService::Open(dir, "pass", symbol::testing::FastOptions());
    ASSERT_TRUE(symbols.ok()) << symbols.status().ToString();
    symbols_ = std::move(*symbols);
    const std::vector<std::string> codes = symbol::testing::DistinctResidentCodes(2);
    for (const char* agency : {kPension, kChiyoda, kInsurer, kTokyo}) {
      a_[agency] = Issue(codes[0], agency);
    }
    b_[kPension] = Issue(codes[1], kPension);

    int port = 7000;
    for (const char* code : {kPension, kChiyoda, kOsaka, kInsurer, kLabour, kTokyo}) {
      nodes_.Connect(code, "tcp://127.0.0.1:" + std::to_string(++port));
    }
    stats_ = std::make_unique<CoreStats>(metrics_);
    env_.now_us = Noon("2026-11-30");
    RestartBroker();
  }

  // A new broker over the same env, policy, symbols and nodes: what a core restart keeps.
  void RestartBroker() {
    BrokerOptions options;
    options.provider_deadline_us = kDeadlineUs;
    options.remember_request_ids_us = kRememberUs;
    options.receipt_grace_us = kReceiptGraceUs;
    broker_ = std::make_unique<InquiryBroker>(
        InquiryBroker::Deps{&env_, policy_.get(), symbols_.get(), &nodes_, stats_.get(), log_.get(),
                            &refusals_},
        options);
  }

  static int64_t Noon(const std::string& date) {
    auto start = policy::JstDayStartMicros(date);
    EXPECT_TRUE(start.ok());
    return *start + 12LL * 3600 * 1'000'000;
  }

  std::string Issue(const std::string& code, const std::string& agency) {
    auto s = symbols_->Issue(code, agency);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::string(reinterpret_cast<const char*>(s->bytes.data()), s->bytes.size());
  }

  // The record symbol under which the person `symbol` (at `agency`) is filed.
  std::array<uint8_t, 32> RecordSymbolOf(const std::string& symbol, const std::string& agency) {
    auto r = symbols_->RecordSymbolOf(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(symbol.data()), symbol.size()),
        agency);
    EXPECT_TRUE(r.ok());
    return r->bytes;
  }

  static v1::Envelope Inquiry(const std::string& request_id, const std::string& symbol,
                              const std::string& business, const std::string& provider,
                              const std::string& item) {
    v1::Envelope e;
    e.set_request_id(request_id);
    v1::Inquiry* q = e.mutable_inquiry();
    q->set_inquirer_symbol(symbol);
    q->set_business_code(business);
    q->set_provider_code(provider);
    q->set_item_code(item);
    (*q->mutable_parameters())["fiscal_year"] = "2026";
    return e;
  }

  // The lawful inquiry of the demo: the pension service asks Chiyoda for person A's local
  // tax for the national pension benefit.
  void AskLawful(const std::string& request_id = "r1") {
    broker_->OnInquiry(kPension,
                       Inquiry(request_id, a_[kPension], "np-benefit", kChiyoda, "local-tax"));
  }

  static v1::Envelope Outcome(const std::string& exchange_id, v1::Outcome outcome,
                              bool non_disclosure = false) {
    v1::Envelope e;
    e.set_request_id(exchange_id);
    e.mutable_provision_outcome()->set_exchange_id(exchange_id);
    e.mutable_provision_outcome()->set_outcome(outcome);
    e.mutable_provision_outcome()->set_non_disclosure(non_disclosure);
    return e;
  }

  static v1::Envelope Receipt(const std::string& request_id, const std::string& exchange_id,
                              bool received = true) {
    v1::Envelope e;
    e.set_request_id(request_id);
    e.mutable_receipt()->set_exchange_id(exchange_id);
    e.mutable_receipt()->set_received(received);
    e.mutable_receipt()->set_outcome(v1::OUTCOME_PROVIDED);
    return e;
  }

  // The events recorded so far, in order.
  std::vector<records::Event> Events() const {
    std::vector<records::Event> out;
    for (const records::Record& r : env_.records) out.push_back(r.event);
    return out;
  }

  ::ipn::testing::TempDir dir_;
  RefusalLedger refusals_;
  policy::AdminKeyPair admin_;
  std::unique_ptr<policy::PolicyStore> policy_;
  std::unique_ptr<symbol::SymbolService> symbols_;
  std::map<std::string, std::string> a_, b_;  // person A's / B's symbol, by agency
  ConnectedNodes nodes_;
  Metrics metrics_;
  std::unique_ptr<CoreStats> stats_;
  std::unique_ptr<Logger> log_ = Logger::Null();
  FakeCoreEnv env_;
  std::unique_ptr<InquiryBroker> broker_;
};

}  // namespace ipn::core::testing
