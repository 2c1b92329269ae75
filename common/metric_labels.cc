// Metric labels for wire enums.
#include "common/metric_labels.h"

#include <cctype>

namespace ipn {
namespace {

std::string Lowered(const std::string& name, std::string_view prefix) {
  std::string out = name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string MetricLabel(v1::Outcome outcome) {
  return Lowered(v1::Outcome_Name(outcome), "OUTCOME_");
}
std::string MetricLabel(v1::DenyReason reason) {
  return Lowered(v1::DenyReason_Name(reason), "DENY_REASON_");
}

}  // namespace ipn
