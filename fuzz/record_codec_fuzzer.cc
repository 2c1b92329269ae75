// Fuzz target: the provision record body codec (records/record_codec.h) — what the store,
// a pulled page and the verifier decode. A body that decodes re-encodes to one that
// decodes to the same record, and the record's own checks never crash on it.
#include <string>

#include "fuzz/fuzz_check.h"
#include "records/record.h"
#include "records/record_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ipn::records::Record;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  Record record;
  if (!ipn::records::DecodeBody(body, record).ok()) return 0;
  FUZZ_CHECK(ipn::records::EventCode(record.event).has_value());
  (void)ipn::records::ValidateRecord(record);
  std::string again;
  ipn::records::AppendBody(record, again);
  Record decoded;
  FUZZ_CHECK(ipn::records::DecodeBody(again, decoded).ok());
  FUZZ_CHECK(decoded == record);
  return 0;
}
