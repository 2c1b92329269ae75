// Internal to middle/: MiddleApi's state and the helpers its route files share.
//   middle_api.cc         start-up, routing, who is calling, log-in, accounts, audit
//   middle_api_copies.cc  copies (one by one and in bulk) and single inquiries
//   middle_api_batches.cc symbols, the exchange log, batch inquiry files, by-hand items
#pragma once

#include <httplib.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "middle/accounts.h"
#include "middle/audit_log.h"
#include "middle/batch_inquiries.h"
#include "middle/exchange_log.h"
#include "middle/inquiry_sender.h"
#include "middle/middle_api.h"
#include "middle/sessions.h"

namespace ipn::middle {

using Json = nlohmann::json;
inline constexpr size_t kMaxJsonBody = 64 * 1024;

void Reply(httplib::Response& res, int status, const Json& body);
int HttpStatus(const Status& s);
void ReplyError(httplib::Response& res, const Status& s);
std::string Field(const Json& body, const char* name);
// The query's `after` and `limit` (defaults 0 and 100), or a 400 already sent.
bool PageParams(const httplib::Request& req, httplib::Response& res, uint64_t* after,
                uint64_t* limit);

class MiddleApi::Impl {
 public:
  explicit Impl(MiddleApiOptions options)
      : options_(options),
        clock_(options.clock != nullptr ? options.clock : &system_clock_),
        accounts_(options.store, clock_),
        sessions_(clock_),
        audit_(options.store, clock_),
        own_exchanges_(options.exchanges != nullptr
                           ? nullptr
                           : std::make_unique<ExchangeLog>(options.store, clock_)),
        exchanges_(options.exchanges != nullptr ? options.exchanges : own_exchanges_.get()),
        sender_(options.store, &audit_, exchanges_, options.inquirer, options.log),
        batches_(options.store, &sender_, clock_, options.log) {}
  Status Init();
  void Stop() {
    if (!server_) return;
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  int port_ = -1;

 private:
  // The caller's account, or a 401 already sent.
  std::optional<Account> Caller(const httplib::Request& req, httplib::Response& res);
  // The JSON object in the body, or a 400 already sent.
  std::optional<Json> Body(const httplib::Request& req, httplib::Response& res);
  // Whether `who` has `role` and acts on its own tenant; otherwise a 403, audited.
  bool Allowed(const Account& who, const char* role, const Json& body, const char* action,
               httplib::Response& res);
  // False (and logged) when the entry could not be written.
  bool Audit(const std::string& tenant, const std::string& account, const std::string& action,
             const std::string& detail, bool allowed);
  void Route();

  void LogIn(const httplib::Request& req, httplib::Response& res);
  void LogOut(const httplib::Request& req, httplib::Response& res);
  void CreateTenant(const httplib::Request& req, httplib::Response& res);
  void CreateAccount(const httplib::Request& req, httplib::Response& res);
  void PutCopy(const httplib::Request& req, httplib::Response& res, bool supersede);
  void GetCopy(const httplib::Request& req, httplib::Response& res);
  void DeleteCopy(const httplib::Request& req, httplib::Response& res);
  void Import(const httplib::Request& req, httplib::Response& res);
  void Inquire(const httplib::Request& req, httplib::Response& res);
  void ReadAudit(const httplib::Request& req, httplib::Response& res);
  void ReadSymbol(const httplib::Request& req, httplib::Response& res);
  void ReadExchanges(const httplib::Request& req, httplib::Response& res);
  void SubmitBatch(const httplib::Request& req, httplib::Response& res);
  void ReadBatch(const httplib::Request& req, httplib::Response& res, bool results);
  void ByHand(const httplib::Request& req, httplib::Response& res, bool set);
  // The policy allows `who`'s tenant to provide the copy's item, and `who` to register
  // it (always, without a policy).
  Status CheckProvidedItem(const Account& who, const Copy& copy) const;

  MiddleApiOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
  Accounts accounts_;
  Sessions sessions_;
  AuditLog audit_;
  std::unique_ptr<ExchangeLog> own_exchanges_;  // when the options bring none
  ExchangeLog* exchanges_;
  InquirySender sender_;
  BatchInquiries batches_;  // after sender_: its worker stops before the sender goes
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace ipn::middle
