// JsonFields: exact integer reads from untrusted JSON.
#include "common/json_fields.h"

#include <limits>

namespace ipn {
namespace {

[[noreturn]] void NotAnInteger(const nlohmann::json& j, const char* type) {
  throw nlohmann::json::type_error::create(
      302, std::string("type must be an integer within ") + type + ", but is " + j.type_name(), &j);
}

}  // namespace

int64_t JsonInt64(const nlohmann::json& j) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) NotAnInteger(j, "int64");
    return static_cast<int64_t>(v);
  }
  if (!j.is_number_integer()) NotAnInteger(j, "int64");
  return j.get<int64_t>();
}

uint64_t JsonUint64(const nlohmann::json& j) {
  if (!j.is_number_unsigned()) NotAnInteger(j, "uint64");
  return j.get<uint64_t>();
}

}  // namespace ipn
