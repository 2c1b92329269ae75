// RequestCardLink: one symbol request through the registry link's node, and its answer.
#include "portal/card_link_request.h"

#include <optional>

#include "common/envelope_io.h"
#include "common/secret.h"
#include "interface/agency_client.h"
#include "portal/enrolment_store.h"

namespace ipn::portal {

Status RequestCardLink(const std::string& registry_node_endpoint, const std::string& portal_agency,
                       const std::string& serial, std::string& resident_code,
                       std::chrono::milliseconds timeout) {
  auto registry = interface::AgencyClient::Connect(registry_node_endpoint);
  if (!registry.ok()) {
    WipeString(&resident_code);
    return registry.status().WithContext("the registry link's node");
  }
  const std::string person_ref = std::string(kCardPersonRefPrefix) + serial;
  const std::string request_id = (*registry)->NextRequestId();
  // A copy goes out (RequestSymbol wipes it); the original, maybe in a short string's
  // inline buffer that a move would leave behind, is wiped here.
  Status sent =
      (*registry)->RequestSymbol(portal_agency, person_ref, std::string(resident_code), request_id);
  WipeString(&resident_code);
  IPN_RETURN_IF_ERROR(sent);
  std::optional<v1::IssueSymbolResponse> response;
  interface::AgencyClient::Callbacks cb;
  cb.on_issue_response = [&](const v1::IssueSymbolResponse& r) {
    if (r.person_ref() == person_ref) response = r;
  };
  IPN_RETURN_IF_ERROR((*registry)->PollUntil(
      std::chrono::steady_clock::now() + timeout, cb, [&] { return response.has_value(); },
      "the registry link did not answer"));
  if (response->error_code() == v1::ERROR_CODE_INVALID_RESIDENT_CODE) {
    return Status::InvalidArgument(response->reason());
  }
  if (response->error_code() != v1::ERROR_CODE_NONE) return Status::Unavailable(response->reason());
  return Status::Ok();
}

}  // namespace ipn::portal
