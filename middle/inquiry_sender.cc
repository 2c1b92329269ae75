// InquirySender: the steps of one outgoing inquiry (see the header).
#include "middle/inquiry_sender.h"

#include <sodium.h>

#include "common/encoding.h"

namespace ipn::middle {

Status InquirySender::Send(const Account& who, const InquiryRow& row, SentInquiry* sent) {
  *sent = SentInquiry();
  const std::string detail = row.person.substr(0, kMaxPersonNumber) + " " +
                             row.provider.substr(0, 64) + " " + row.business.substr(0, 64) + " " +
                             row.item.substr(0, kMaxItemCode) +
                             (row.batch.empty() ? "" : " (batch " + row.batch + ")");
  auto refuse = [&](const Status& why) -> Status {
    AuditOrLog(*audit_, log_, who.tenant, who.name, "inquire", detail + ": " + why.message(),
               false);
    return why;
  };
  if (who.businesses.count(row.business) == 0) {
    return refuse(Status::PermissionDenied("business " + row.business.substr(0, 64) +
                                           " is not one of this account's"));
  }
  if (inquirer_ == nullptr) {
    return Status::Unavailable("this platform is not connected to the network");
  }
  Result<std::string> symbol = store_->SymbolOf(who.tenant, row.person);
  if (!symbol.ok()) return refuse(symbol.status());
  uint8_t raw_id[12];
  randombytes_buf(raw_id, sizeof(raw_id));
  const std::string request_id = "api-" + HexEncode(raw_id);
  if (!AuditOrLog(*audit_, log_, who.tenant, who.name, "inquire", detail + " as " + request_id,
                  true)) {
    return Status::Unavailable("the audit log cannot be written: no inquiry goes out");
  }
  sent->request_id = request_id;
  Result<InquiryAnswer> answer =
      inquirer_->Inquire(who.tenant, *symbol, row.provider, row.business, row.item, request_id);
  ExchangeEntry entry;
  entry.role = "inquirer";
  entry.account = who.name;
  entry.person = row.person;
  entry.peer = row.provider;
  entry.business = row.business;
  entry.item = row.item;
  entry.request_id = request_id;
  entry.batch = row.batch;
  if (answer.ok()) {
    entry.outcome = answer->outcome;
    entry.exchange_id = answer->exchange_id;
  } else {
    entry.outcome = "no_result";  // the network's answer never came back to the platform
    AuditOrLog(*audit_, log_, who.tenant, who.name, "inquire",
               request_id + ": " + answer.status().message(), false);
  }
  if (exchanges_ != nullptr) {
    Status logged = exchanges_->Append(who.tenant, std::move(entry));
    if (!logged.ok() && log_ != nullptr) {
      log_->Error("middle_exchange_log_failed",
                  {{"tenant", who.tenant}, {"reason", logged.message()}});
    }
  }
  if (!answer.ok()) return answer.status();
  sent->answer = std::move(*answer);
  return Status::Ok();
}

}  // namespace ipn::middle
