// Metric labels for wire enums.
#include "common/metric_labels.h"

#include <cctype>

#include "ipn/v1/wire_names.h"

namespace ipn {
namespace {

std::string Lowered(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string MetricLabel(v1::Outcome outcome) {
  return Lowered(v1::OutcomeName(outcome));
}
std::string MetricLabel(v1::DenyReason reason) {
  return Lowered(v1::DenyReasonName(reason));
}

}  // namespace ipn
