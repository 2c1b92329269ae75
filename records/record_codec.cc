// Byte layouts of the record store.
#include "records/record_codec.h"

namespace ipn::records {
namespace {

constexpr Event kEventByCode[] = {
    Event::kInquiryAccepted, Event::kInquiryRefused, Event::kForwarded,
    Event::kProvided,        Event::kNotHeld,        Event::kFailed,
    Event::kTimedOut,        Event::kReceived,       Event::kOperatorAction};

void AppendVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool ReadVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift <= 28; shift += 7) {
    if (in.empty()) return false;
    uint8_t b = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      // Canonical: no redundant trailing zero groups.
      return !(b == 0 && shift > 0);
    }
  }
  return false;
}

void AppendString(std::string_view s, std::string& out) {
  AppendVarint(s.size(), out);
  out.append(s);
}

bool ReadString(std::string_view& in, size_t max_bytes, std::string& out) {
  uint64_t len;
  if (!ReadVarint(in, len) || len > max_bytes || len > in.size()) return false;
  out.assign(in.substr(0, len));
  in.remove_prefix(len);
  return true;
}

}  // namespace

std::optional<uint8_t> EventCode(Event event) {
  for (size_t i = 0; i < std::size(kEventByCode); ++i) {
    if (kEventByCode[i] == event) return static_cast<uint8_t>(i + 1);
  }
  return std::nullopt;
}

std::optional<Event> EventFromCode(uint8_t code) {
  if (code < 1 || code > std::size(kEventByCode)) return std::nullopt;
  return kEventByCode[code - 1];
}

void AppendLeafHeader(uint64_t sequence, int64_t time_unix_us,
                      std::span<const uint8_t, 32> record_symbol, std::string& out) {
  out.push_back(static_cast<char>(kLeafFormat));
  AppendBigEndian64(sequence, out);
  AppendBigEndian64(static_cast<uint64_t>(time_unix_us), out);
  out.append(reinterpret_cast<const char*>(record_symbol.data()), record_symbol.size());
}

void AppendBody(const Record& record, std::string& out) {
  out.push_back(static_cast<char>(EventCode(record.event).value_or(0)));
  out.push_back(static_cast<char>(record.non_disclosure ? 1 : 0));
  AppendString(record.inquirer, out);
  AppendString(record.provider, out);
  AppendString(record.business, out);
  AppendString(record.item, out);
  AppendString(record.request_id, out);
  AppendString(record.outcome, out);
}

Status DecodeBody(std::string_view body, Record& record) {
  if (body.size() < 2) return Status::Corruption("record body is truncated");
  std::optional<Event> event = EventFromCode(static_cast<uint8_t>(body[0]));
  if (!event) return Status::Corruption("record body has an unknown event code");
  uint8_t flags = static_cast<uint8_t>(body[1]);
  if (flags > 1) return Status::Corruption("record body has unknown flags");
  record.event = *event;
  record.non_disclosure = flags == 1;
  body.remove_prefix(2);
  if (!ReadString(body, kMaxCodeBytes, record.inquirer) ||
      !ReadString(body, kMaxCodeBytes, record.provider) ||
      !ReadString(body, kMaxCodeBytes, record.business) ||
      !ReadString(body, kMaxCodeBytes, record.item) ||
      !ReadString(body, kMaxRequestIdBytes, record.request_id) ||
      !ReadString(body, kMaxOutcomeBytes, record.outcome)) {
    return Status::Corruption("record body has a malformed field");
  }
  if (!body.empty()) return Status::Corruption("record body has trailing bytes");
  return Status::Ok();
}

std::string SequenceKey(uint64_t sequence) {
  std::string key(8, '\0');
  PutBigEndian64(sequence, key.data());
  return key;
}

void WritePersonKey(std::span<const uint8_t, 32> record_symbol, int64_t time_unix_us,
                    uint64_t sequence, char* out) {
  std::copy(record_symbol.begin(), record_symbol.end(), out);
  PutBigEndian64(~OrderedTime(time_unix_us), out + 32);
  PutBigEndian64(~sequence, out + 40);
}

void WriteTimeKey(int64_t time_unix_us, uint64_t sequence, char* out) {
  PutBigEndian64(OrderedTime(time_unix_us), out);
  PutBigEndian64(sequence, out + 8);
}

void WriteNodeKey(int level, uint64_t index, char* out) {
  out[0] = static_cast<char>(level);
  PutBigEndian64(index, out + 1);
}

std::string PersonKey(std::span<const uint8_t, 32> record_symbol, int64_t time_unix_us,
                      uint64_t sequence) {
  std::string key(kPersonKeyBytes, '\0');
  WritePersonKey(record_symbol, time_unix_us, sequence, key.data());
  return key;
}

std::string TimeKey(int64_t time_unix_us, uint64_t sequence) {
  std::string key(kTimeKeyBytes, '\0');
  WriteTimeKey(time_unix_us, sequence, key.data());
  return key;
}

std::string NodeKey(int level, uint64_t index) {
  std::string key(kNodeKeyBytes, '\0');
  WriteNodeKey(level, index, key.data());
  return key;
}

std::string HeadKey(uint64_t tree_size, int64_t timestamp_us) {
  std::string key(16, '\0');
  PutBigEndian64(tree_size, key.data());
  PutBigEndian64(OrderedTime(timestamp_us), key.data() + 8);
  return key;
}

}  // namespace ipn::records
