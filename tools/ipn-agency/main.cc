// ipn-agency: a demo agency system. It connects to its agency's node, learns the symbols
// issued to the agency, and answers forwarded inquiries from a generated local dataset.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "interface/agency_client.h"
#include "tools/daemon/daemon.h"
#include "tools/daemon/last_resort.h"
#include "tools/ipn-agency/demo_dataset.h"

namespace {

int RunMain(int argc, char** argv, ipn::daemon::LastResort& last_resort) {
  CLI::App app{"ipn-agency: a demo agency system answering from a generated dataset"};
  std::string agency, node, log_path, marker;
  app.add_option("--agency", agency, "Agency code")->required();
  app.add_option("--node", node, "The node's local endpoint (ipc://PATH)")->required();
  app.add_option("--marker", marker, "Text appended to every answer (privacy tests)");
  app.add_option("--log", log_path, "Log file (JSON lines); default stderr");
  CLI11_PARSE(app, argc, argv);

  auto log = ipn::daemon::OpenLog(log_path, "agency");
  if (!log.ok()) {
    std::fprintf(stderr, "ipn-agency: %s\n", log.status().ToString().c_str());
    return 1;
  }
  ipn::Logger* logger = last_resort.KeepLog(std::move(*log));
  static ipn::daemon::Signals signals;
  ipn::daemon::InstallSignalHandlers(&signals);
  auto client = ipn::interface::AgencyClient::Connect(node, /*serve=*/true);
  if (!client.ok()) {
    std::fprintf(stderr, "ipn-agency: %s\n", client.status().ToString().c_str());
    return 1;
  }
  ipn::demo::DemoDataset dataset(agency, marker);
  uint64_t answered = 0;
  ipn::interface::AgencyClient::Callbacks callbacks;
  callbacks.on_symbol = [&](ipn::interface::IssuedSymbol s) {
    dataset.AddPerson(s.symbol, s.person_ref);
  };
  callbacks.on_inquiry = [&](const ipn::v1::ForwardedInquiry& f) {
    ipn::v1::AgencyAnswer answer;
    ipn::demo::DatasetAnswer a = dataset.Answer(f.provider_symbol(), f.item_code());
    answer.set_outcome(a.held ? ipn::v1::OUTCOME_PROVIDED : ipn::v1::OUTCOME_NOT_HELD);
    answer.set_payload(a.content);
    answer.set_non_disclosure(a.non_disclosure);
    ++answered;
    return answer;
  };
  ipn::daemon::AnnounceReady("agency=" + agency);
  logger->Info("agency_started", {{"agency", agency}});
  ipn::Status s = (*client)->Serve(callbacks, signals.stop);
  logger->Info("agency_stopping",
               {{"agency", agency}, {"people", dataset.size()}, {"answered", answered}});
  return s.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ipn::daemon::LastResort last_resort("ipn-agency");
  return last_resort.Run([&] { return RunMain(argc, argv, last_resort); });
}
