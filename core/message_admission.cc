// Message admission: field limits and the recordable-fields check.
#include "core/message_admission.h"

#include <string>

#include "common/limits.h"
#include "records/record.h"

namespace ipn::core {
namespace {

Status AtMost(std::string_view field, size_t size, size_t limit) {
  if (size <= limit) return Status::Ok();
  return Status::InvalidArgument(std::string(field) + " is " + std::to_string(size) +
                                 " bytes; the limit is " + std::to_string(limit));
}

Status CheckInquiry(const v1::Inquiry& q) {
  IPN_RETURN_IF_ERROR(
      records::CheckRecordField("provider", q.provider_code(), records::kMaxCodeBytes));
  IPN_RETURN_IF_ERROR(
      records::CheckRecordField("business", q.business_code(), records::kMaxCodeBytes));
  IPN_RETURN_IF_ERROR(records::CheckRecordField("item", q.item_code(), records::kMaxCodeBytes));
  IPN_RETURN_IF_ERROR(AtMost("the symbol", q.inquirer_symbol().size(), limits::kMaxSymbolBytes));
  if (q.parameters_size() > static_cast<int>(limits::kMaxParameters)) {
    return Status::InvalidArgument("an inquiry has " + std::to_string(q.parameters_size()) +
                                   " parameters; the limit is " +
                                   std::to_string(limits::kMaxParameters));
  }
  for (const auto& [key, value] : q.parameters()) {
    IPN_RETURN_IF_ERROR(AtMost("a parameter name", key.size(), limits::kMaxParameterKeyBytes));
    IPN_RETURN_IF_ERROR(AtMost("a parameter value", value.size(), limits::kMaxParameterValueBytes));
  }
  return Status::Ok();
}

}  // namespace

Status CheckAnswerEndpoint(std::string_view endpoint) {
  IPN_RETURN_IF_ERROR(AtMost("the answer endpoint", endpoint.size(), limits::kMaxEndpointBytes));
  constexpr std::string_view kScheme = "tcp://";
  if (endpoint.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument("the answer endpoint must be tcp://HOST:PORT");
  }
  for (char c : endpoint) {
    if (c <= 0x20 || c >= 0x7F) {
      return Status::InvalidArgument("the answer endpoint must be printable ASCII");
    }
  }
  const size_t colon = endpoint.rfind(':');
  const std::string_view port = endpoint.substr(colon + 1);
  if (colon < kScheme.size() + 1 || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return Status::InvalidArgument("the answer endpoint must be tcp://HOST:PORT");
  }
  return Status::Ok();
}

Status CheckAdmissible(const v1::Envelope& e) {
  IPN_RETURN_IF_ERROR(
      records::CheckRecordField("request id", e.request_id(), records::kMaxRequestIdBytes));
  switch (e.body_case()) {
    case v1::Envelope::kInquiry: return CheckInquiry(e.inquiry());
    case v1::Envelope::kRecordQuery:
      IPN_RETURN_IF_ERROR(AtMost("the page token", e.record_query().page_token().size(),
                                 limits::kMaxPageTokenBytes));
      IPN_RETURN_IF_ERROR(
          AtMost("the symbol", e.record_query().person_symbol().size(), limits::kMaxSymbolBytes));
      IPN_RETURN_IF_ERROR(
          AtMost("the desk's audit head", e.record_query().desk_audit_head().size(), 32));
      return records::CheckRecordField("agency", e.record_query().agency_code(),
                                       records::kMaxCodeBytes);
    case v1::Envelope::kHello:
      IPN_RETURN_IF_ERROR(
          records::CheckRecordField("agency", e.hello().agency_code(), records::kMaxCodeBytes));
      return AtMost("the software version", e.hello().software_version().size(),
                    limits::kMaxSoftwareVersionBytes);
    case v1::Envelope::kProvisionOutcome:
      return AtMost("the detail", e.provision_outcome().detail().size(), limits::kMaxDetailBytes);
    case v1::Envelope::kIssueSymbolRequest:
      IPN_RETURN_IF_ERROR(records::CheckRecordField(
          "agency", e.issue_symbol_request().agency_code(), records::kMaxCodeBytes));
      return AtMost("the person reference", e.issue_symbol_request().person_ref().size(),
                    limits::kMaxPersonRefBytes);
    default: return Status::Ok();
  }
}

}  // namespace ipn::core
