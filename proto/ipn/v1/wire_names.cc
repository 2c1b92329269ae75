// Wire enum names without their prefixes (see wire_names.h).
#include "ipn/v1/wire_names.h"

#include <string>

namespace ipn::v1 {
namespace {

// `name` is a reference to the descriptor's own string (protobuf's NameOfEnum), or to its
// static empty string for an unnamed value, so the view stays valid.
std::string_view WithoutPrefix(const std::string& name, std::string_view prefix) {
  std::string_view view(name);
  if (view.starts_with(prefix)) view.remove_prefix(prefix.size());
  return view;
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  return WithoutPrefix(Outcome_Name(outcome), "OUTCOME_");
}

std::string_view DenyReasonName(DenyReason reason) {
  return WithoutPrefix(DenyReason_Name(reason), "DENY_REASON_");
}

std::string_view ErrorCodeName(ErrorCode code) {
  return WithoutPrefix(ErrorCode_Name(code), "ERROR_CODE_");
}

}  // namespace ipn::v1
