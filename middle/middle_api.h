// MiddleApi: the middle server's HTTP/JSON API, for the agency's own systems and staff
// (docs/middle.md; the contract is docs/middle-openapi.json, served at /v1/openapi.json).
// Staff log in with name, password and TOTP code (Accounts) and get a bearer token
// (Sessions); what each may do is its roles' (accounts.h); every action and every
// refusal goes to its tenant's audit log (AuditLog). An inquiry names the person by the
// tenant's internal person number: the API maps it to the agency's symbol (the person
// map) and asks the network through the `Inquirer` seam (the platform's node client in
// production, a fake in tests).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/logger.h"
#include "common/status.h"
#include "middle/exchange_log.h"
#include "middle/middle_store.h"

namespace ipn::middle {

// One inquiry's end as the API reports it.
struct InquiryAnswer {
  std::string outcome;  // provided, not_held, refused, unreachable, timed_out, failed
  std::string explanation;
  std::string content;  // when provided
  std::string exchange_id;
};

// How the API asks the network, as `tenant` (its agency), about the person whose agency
// symbol is `symbol`, under `request_id` (the API makes one per inquiry: its audit entry
// names it, and so do the core's provision records).
class Inquirer {
 public:
  virtual ~Inquirer() = default;
  virtual Result<InquiryAnswer> Inquire(const std::string& tenant, const std::string& symbol,
                                        const std::string& provider, const std::string& business,
                                        const std::string& item, const std::string& request_id) = 0;
};

struct MiddleApiOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  // HTTPS with the platform CA's serving certificate (tls_ca.h) from this directory.
  // Empty: plain HTTP, allowed only when `host` is loopback (development).
  std::string tls_dir;
  MiddleStore* store = nullptr;
  Inquirer* inquirer = nullptr;  // may be null: inquiries then answer 503
  // The tenants' exchange logs, shared with the platform (MiddlePlatform::Start), which
  // logs the provisions it answers. Null: the API keeps its own (its inquiries only).
  ExchangeLog* exchanges = nullptr;
  const Clock* clock = nullptr;  // null: the system clock
  Logger* log = nullptr;
  // The items each tenant may provide under the permitted-link list, and for which
  // businesses (ProvidedItemBusinesses): a copy of any other item is refused, and a
  // registrar whose account lists businesses registers only items provided for one of
  // them. Unset: neither is checked (development only).
  std::optional<std::map<std::string, std::map<std::string, std::set<std::string>>>> provided_items;
};

class MiddleApi {
 public:
  static Result<std::unique_ptr<MiddleApi>> Start(MiddleApiOptions options);
  ~MiddleApi();  // stops serving
  int port() const;

  class Impl;

 private:
  explicit MiddleApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ipn::middle
