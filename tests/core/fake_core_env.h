// FakeCoreEnv: the core's world for unit tests — a manual clock, the records added, the
// messages sent now and after commit, deterministic exchange ids ("x1", "x2", …), and a
// set of agencies whose nodes refuse an immediate send.
#pragma once

#include <map>
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
  // "x1", "x2", … in order of first use; the same pair always gets the same id.
  std::string NewExchangeId(std::string_view inquirer, std::string_view request_id) override {
    std::string& id = ids[{std::string(inquirer), std::string(request_id)}];
    if (id.empty()) id = "x" + std::to_string(++next_id);
    return id;
  }
  bool RequestIdRecorded(std::string_view inquirer, std::string_view request_id) override {
    ++request_index_reads;
    return durable_request_ids.count({std::string(inquirer), std::string(request_id)}) != 0;
  }

  // Makes the records added so far durable, as far as the request index goes.
  void MakeDurable() {
    for (const records::Record& r : records) {
      if (!r.request_id.empty()) durable_request_ids.insert({r.inquirer, r.request_id});
    }
  }

  // Forgets what was recorded and sent so far (the clock stays).
  void Clear() {
    records.clear();
    after_commit.clear();
    sent_now.clear();
  }

  int64_t now_us = 0;
  int next_id = 0;
  std::map<std::pair<std::string, std::string>, std::string> ids;
  std::set<std::string> unreachable;
  std::set<std::pair<std::string, std::string>> durable_request_ids;  // (inquirer, request id)
  int request_index_reads = 0;
  std::vector<records::Record> records;
  std::vector<std::pair<std::string, v1::Envelope>> after_commit;
  std::vector<std::pair<std::string, v1::Envelope>> sent_now;
};

}  // namespace ipn::core::testing
