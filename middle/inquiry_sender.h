// InquirySender: one inquiry of a tenant's account into the network, the same way
// whether it came from the API one by one or from a batch file (BatchInquiries). Its
// steps, in order: the business must be one of the account's; the internal person number
// is mapped to the tenant's agency symbol (the person map); a request id is made and the
// audit entry naming it is written before the inquiry leaves (the core's provision
// records know agencies, not staff: this entry links the two); the inquiry goes out
// through the `Inquirer` seam; its end goes to the tenant's exchange log. Every refusal
// is audited.
#pragma once

#include <string>

#include "common/logger.h"
#include "common/status.h"
#include "middle/accounts.h"
#include "middle/audit_log.h"
#include "middle/exchange_log.h"
#include "middle/middle_api.h"
#include "middle/middle_store.h"

namespace ipn::middle {

struct InquiryRow {
  std::string person;  // the tenant's internal person number
  std::string provider;
  std::string business;
  std::string item;
  std::string batch;  // the batch file's id, when from one (for the exchange log)
};

struct SentInquiry {
  std::string request_id;  // set once the inquiry is audited to go out (empty: refused first)
  InquiryAnswer answer;    // when Send is Ok
};

class InquirySender {
 public:
  // `exchanges` and `inquirer` may be null (no exchange log; not connected: Unavailable).
  InquirySender(MiddleStore* store, AuditLog* audit, ExchangeLog* exchanges, Inquirer* inquirer,
                Logger* log)
      : store_(store), audit_(audit), exchanges_(exchanges), inquirer_(inquirer), log_(log) {}

  // PermissionDenied (not one of the account's businesses), NotFound (no symbol bound to
  // the person number yet), Unavailable (not connected, the audit log unwritable, too
  // many waiting), or the inquiry's own failure — then `sent->request_id` says whether it
  // went out (the core's records know it by that id).
  Status Send(const Account& who, const InquiryRow& row, SentInquiry* sent);
  bool connected() const { return inquirer_ != nullptr; }

 private:
  MiddleStore* store_;
  AuditLog* audit_;
  ExchangeLog* exchanges_;
  Inquirer* inquirer_;
  Logger* log_;
};

}  // namespace ipn::middle
