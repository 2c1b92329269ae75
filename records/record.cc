// Provision records: event names, validation, and the canonical leaf encoding.
#include "records/record.h"

#include "common/encoding.h"
#include "records/record_codec.h"

namespace ipn::records {
namespace {

struct EventEntry {
  Event event;
  const char* name;
};

constexpr EventEntry kEvents[] = {
    {Event::kInquiryAccepted, "inquiry_accepted"},
    {Event::kInquiryRefused, "inquiry_refused"},
    {Event::kForwarded, "forwarded"},
    {Event::kProvided, "provided"},
    {Event::kNotHeld, "not_held"},
    {Event::kFailed, "failed"},
    {Event::kTimedOut, "timed_out"},
    {Event::kReceived, "received"},
    {Event::kOperatorAction, "operator_action"},
};

// Valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF) and no C0 or
// C1 control characters or DEL.
bool IsCleanText(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      cp = c & 0x1F;
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      cp = c & 0x0F;
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      cp = c & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
    i += len;
  }
  return true;
}

}  // namespace

const char* EventName(Event event) {
  for (const auto& e : kEvents) {
    if (e.event == event) return e.name;
  }
  return "unknown";
}

std::optional<Event> ParseEvent(std::string_view name) {
  for (const auto& e : kEvents) {
    if (name == e.name) return e.event;
  }
  return std::nullopt;
}

Status CheckRecordField(std::string_view name, std::string_view value, size_t max_bytes) {
  if (value.size() > max_bytes) {
    return Status::InvalidArgument(std::string(name) + " is " + std::to_string(value.size()) +
                                   " bytes; the limit is " + std::to_string(max_bytes));
  }
  if (!IsCleanText(value)) {
    return Status::InvalidArgument(std::string(name) +
                                   " must be UTF-8 text without control characters");
  }
  return Status::Ok();
}

Status ValidateRecord(const Record& record) {
  if (!EventCode(record.event).has_value()) {
    return Status::InvalidArgument("record event is not one of the defined events");
  }
  if (record.inquirer.empty()) return Status::InvalidArgument("record inquirer is empty");
  IPN_RETURN_IF_ERROR(CheckRecordField("inquirer", record.inquirer, kMaxCodeBytes));
  IPN_RETURN_IF_ERROR(CheckRecordField("provider", record.provider, kMaxCodeBytes));
  IPN_RETURN_IF_ERROR(CheckRecordField("business", record.business, kMaxCodeBytes));
  IPN_RETURN_IF_ERROR(CheckRecordField("item", record.item, kMaxCodeBytes));
  IPN_RETURN_IF_ERROR(CheckRecordField("request id", record.request_id, kMaxRequestIdBytes));
  IPN_RETURN_IF_ERROR(CheckRecordField("outcome", record.outcome, kMaxOutcomeBytes));
  if (record.time_unix_us < 0) return Status::InvalidArgument("record time is before 1970");
  return Status::Ok();
}

std::string EncodeLeaf(const Record& record) {
  std::string leaf;
  leaf.reserve(kLeafHeaderBytes + 16 + record.inquirer.size() + record.provider.size() +
               record.business.size() + record.item.size() + record.request_id.size() +
               record.outcome.size());
  AppendLeafHeader(record.sequence, record.time_unix_us, record.record_symbol, leaf);
  AppendBody(record, leaf);
  return leaf;
}

Result<Record> DecodeLeaf(std::string_view leaf) {
  if (leaf.size() < kLeafHeaderBytes || static_cast<uint8_t>(leaf[0]) != kLeafFormat) {
    return Status::Corruption("not a format-1 record leaf");
  }
  Record record;
  record.sequence = GetBigEndian64(leaf.data() + 1);
  record.time_unix_us = static_cast<int64_t>(GetBigEndian64(leaf.data() + 9));
  std::copy(leaf.begin() + 17, leaf.begin() + 49, record.record_symbol.begin());
  IPN_RETURN_IF_ERROR(DecodeBody(leaf.substr(kLeafHeaderBytes), record));
  return record;
}

Hash RecordLeafHash(const Record& record) {
  std::string leaf = EncodeLeaf(record);
  return LeafHash(AsBytes(leaf));
}

}  // namespace ipn::records
