// Big-endian (network order) fixed-width integers: the one byte layout of every stored
// format and key in the project, chosen so that byte order is numeric order (RocksDB
// keys sort by it). Takes raw bytes as void* so both char and uint8_t buffers fit.
#pragma once

#include <cstdint>
#include <string>

namespace ipn {

inline void PutBigEndian16(uint16_t v, void* out) {
  auto* p = static_cast<unsigned char*>(out);
  p[0] = static_cast<unsigned char>(v >> 8);
  p[1] = static_cast<unsigned char>(v);
}

inline void PutBigEndian32(uint32_t v, void* out) {
  auto* p = static_cast<unsigned char*>(out);
  for (int i = 3; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v);
    v >>= 8;
  }
}

inline void PutBigEndian64(uint64_t v, void* out) {
  auto* p = static_cast<unsigned char*>(out);
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v);
    v >>= 8;
  }
}

inline uint16_t GetBigEndian16(const void* in) {
  const auto* p = static_cast<const unsigned char*>(in);
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

inline uint32_t GetBigEndian32(const void* in) {
  const auto* p = static_cast<const unsigned char*>(in);
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | p[i];
  return v;
}

inline uint64_t GetBigEndian64(const void* in) {
  const auto* p = static_cast<const unsigned char*>(in);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

inline void AppendBigEndian32(uint32_t v, std::string& out) {
  char buf[4];
  PutBigEndian32(v, buf);
  out.append(buf, sizeof(buf));
}

inline void AppendBigEndian64(uint64_t v, std::string& out) {
  char buf[8];
  PutBigEndian64(v, buf);
  out.append(buf, sizeof(buf));
}

}  // namespace ipn
