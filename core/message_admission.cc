// Message admission: the recordable-fields check.
#include "core/message_admission.h"

#include "records/record.h"

namespace ipn::core {

Status CheckRecordable(const v1::Envelope& e) {
  Status fit = records::CheckRecordField("request id", e.request_id(), records::kMaxRequestIdBytes);
  if (fit.ok() && e.has_inquiry()) {
    const v1::Inquiry& q = e.inquiry();
    fit = records::CheckRecordField("provider", q.provider_code(), records::kMaxCodeBytes);
    if (fit.ok())
      fit = records::CheckRecordField("business", q.business_code(), records::kMaxCodeBytes);
    if (fit.ok()) fit = records::CheckRecordField("item", q.item_code(), records::kMaxCodeBytes);
  } else if (fit.ok() && e.has_record_query()) {
    fit =
        records::CheckRecordField("agency", e.record_query().agency_code(), records::kMaxCodeBytes);
  }
  return fit;
}

}  // namespace ipn::core
