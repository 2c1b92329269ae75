// E2eNetwork: a LocalNetwork in a test's temporary directory, with agency clients and
// helpers to issue symbols and read the records the run left.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "interface/agency_client.h"
#include "records/record_store.h"
#include "tests/support/temp_dir.h"
#include "tools/ipn-agency/demo_dataset.h"
#include "tools/localnet/local_network.h"

namespace ipn::testing {

class E2eNetwork {
 public:
  // Starts the core and a node + demo agency program for each agency in `agencies`
  // (REG-0001 gets a node only), suspending `suspended`.
  // `prepare`, when given, runs on the network's data directory before anything starts
  // (the disk-full test mounts a small filesystem there).
  explicit E2eNetwork(std::vector<std::string> agencies, std::vector<std::string> suspended = {},
                      std::string marker = "", double deadline_s = 2.0,
                      const std::function<void(const std::string&)>& prepare = {},
                      const std::function<void(localnet::LocalNetworkOptions&)>& configure = {});
  ~E2eNetwork();

  localnet::LocalNetwork& net() { return *net_; }
  const std::string& dir() const { return dir_.path(); }
  interface::AgencyClient& Client(const std::string& agency);

  // Issues `agency` a symbol for the person with `code` (via the registry link) and
  // returns it as the agency received it.
  std::vector<uint8_t> IssueSymbol(const std::string& agency, const std::string& code,
                                   const std::string& person_ref);
  interface::InquiryReply Inquire(const std::string& inquirer, const std::vector<uint8_t>& symbol,
                                  const std::string& business, const std::string& provider,
                                  const std::string& item, const std::string& request_id = "");

  // What `provider`'s demo agency answers for the person it knows as `person_ref`: the
  // demo dataset decides, deterministically, whether it holds `item` and what it says.
  demo::DatasetAnswer Expected(const std::string& provider, const std::string& person_ref,
                               const std::string& item) const;
  v1::Outcome ExpectedOutcome(const std::string& provider, const std::string& person_ref,
                              const std::string& item) const;

  // The value of the core's metric line starting with `series` (e.g.
  // `ipn_core_decisions_total{decision="accepted"}`); 0 when absent or unreadable.
  double CoreMetric(const std::string& series);
  // The same from a replicated core's `site` (0 when it is not running).
  double SiteMetric(size_t site, const std::string& series);
  // Waits until the core's `series` reaches `at_least`; false when `within` passes first.
  bool WaitForCoreMetric(const std::string& series, double at_least, std::chrono::seconds within);

  // Stops every process, then reads every record of the run.
  std::vector<records::Record> StopAndReadRecords();
  std::array<uint8_t, 32> RecordSymbolOf(const std::vector<uint8_t>& symbol,
                                         const std::string& agency);

 private:
  TempDir dir_;
  std::string marker_;
  std::unique_ptr<localnet::LocalNetwork> net_;
  std::map<std::string, std::unique_ptr<interface::AgencyClient>> clients_;
};

// The events recorded for `inquirer`'s request `id`, in log order (and their outcome
// texts into `outcomes`, if given).
std::vector<records::Event> EventsOf(const std::vector<records::Record>& all,
                                     const std::string& inquirer, const std::string& id,
                                     std::vector<std::string>* outcomes = nullptr);

// The demo's lawful inquiry: the pension service asks Chiyoda for the local tax.
interface::InquiryRequest LocalTax(const std::vector<uint8_t>& symbol, const std::string& id);

// A valid resident code from ten digits.
std::string ResidentCodeFrom(const std::string& first_ten);

// An operator of the two-person rule with a fresh Ed25519 key (its secret key file under
// the directory given to MakeOperators), for `ipn … approve --operator ID --key FILE`.
struct TestOperator {
  std::string id, key_file;
  std::array<uint8_t, 32> pk{};
};
std::vector<TestOperator> MakeOperators(const TempDir& dir, const std::vector<std::string>& ids);
// "operator ID ROLE HEX" for each (operator, role), then the `require` lines given.
std::string RosterText(const std::vector<std::pair<const TestOperator*, std::string>>& roles,
                       const std::string& rules);

// How often `needle` occurs in the file at `path` (0 when it cannot be read): refusals
// counted in a log after the run.
size_t Occurrences(const std::string& path, const std::string& needle);

// Runs `ipn <args>` from the build (no terminal, output discarded); true when it exits 0.
bool RunIpn(const std::string& args);

}  // namespace ipn::testing
