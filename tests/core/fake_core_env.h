// FakeCoreEnv: the core's world for unit tests — a manual clock, the records added, the
// messages sent now and after commit, deterministic exchange ids ("x1", "x2", …), and a
// set of agencies whose nodes refuse an immediate send.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/core_env.h"

namespace ipn::core::testing {

class FakeCoreEnv : public CoreEnv {
 public:
  int64_t NowMicros() const override { return now_us; }
  void AddRecord(records::Record record) override { records.push_back(std::move(record)); }
  void SendAfterCommit(std::string agency, v1::Envelope envelope) override {
    after_commit.emplace_back(std::move(agency), std::move(envelope));
  }
  Status SendNow(std::string_view agency, const v1::Envelope& envelope) override {
    if (unreachable.count(std::string(agency)) != 0) {
      return Status::Unavailable("host unreachable");
    }
    sent_now.emplace_back(std::string(agency), envelope);
    return Status::Ok();
  }
  std::string NewExchangeId() override { return "x" + std::to_string(++next_id); }

  // Forgets what was recorded and sent so far (the clock stays).
  void Clear() {
    records.clear();
    after_commit.clear();
    sent_now.clear();
  }

  int64_t now_us = 0;
  int next_id = 0;
  std::set<std::string> unreachable;
  std::vector<records::Record> records;
  std::vector<std::pair<std::string, v1::Envelope>> after_commit;
  std::vector<std::pair<std::string, v1::Envelope>> sent_now;
};

}  // namespace ipn::core::testing
