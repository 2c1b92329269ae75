// DeskServer: the commission's desk on loopback (issue #17, docs/oversight.md "The desk"):
// the page (oversight/web, compiled in, Chart.js embedded from npm at build time) and its
// JSON API over DeskService. Investigators log in with a password and a one-time code
// (DeskAuth); every view and every change is written to the desk's audit log (DeskAudit)
// before it is answered, and a view that cannot be recorded is not shown.
//
//   HTTP ─► Route ─┬─► Login ─► DeskAuth::LogIn ─► (audit) ─► session halves
//                  └─► Authed: DeskAuth::SessionOwner ─► DeskAudit::Append ─► the view:
//                        Summary, Names, Volumes (DeskStore::Volumes), Anomalies
//                        (DeskCases::List), Flag (DeskService::Flag), SetStatus
//                        (DeskCases::SetStatus), Heads, Fees (DeskService::Fees), Pull
//                        (DeskService::PullNow), Audit (DeskAudit::Recent)
#pragma once

#include <memory>
#include <string>

#include "common/logger.h"
#include "common/status.h"
#include "oversight/desk_audit.h"
#include "oversight/desk_auth.h"
#include "oversight/desk_service.h"
#include "policy/policy.h"

namespace ipn::oversight {

struct DeskServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  DeskService* service = nullptr;
  DeskAuth* auth = nullptr;
  DeskAudit* audit = nullptr;
  std::shared_ptr<const policy::Policy> names;  // agencies', businesses', items' names
  records::PublicKey records_key{};
  Logger* logger = nullptr;
  const Clock* clock = nullptr;
};

class DeskServer {
 public:
  // Binds; serving starts with Start().
  static Result<std::unique_ptr<DeskServer>> Open(DeskServerOptions options);
  ~DeskServer();
  int port() const;
  Status Start();
  void Stop();

  class Impl;

 private:
  explicit DeskServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipn::oversight
