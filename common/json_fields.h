// JsonFields: integers read from JSON that came from outside (a pulled-set file, a heads
// file, a key file). nlohmann's get<int64_t>() converts a float with a plain cast, which
// is undefined behaviour when the value does not fit (found by fuzz/pulled_set_fuzzer);
// these accept only JSON integers that fit the type exactly, and throw nlohmann's
// type_error otherwise, like the get<> they replace inside the callers' try blocks.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace ipn {

// A JSON integer within int64_t.
int64_t JsonInt64(const nlohmann::json& j);
// A JSON integer within uint64_t (not negative).
uint64_t JsonUint64(const nlohmann::json& j);

}  // namespace ipn
