// SecretBytes: a fixed-size buffer for key material and other secrets, held in
// memory locked against swapping (sodium_malloc, with guard pages) and wiped on
// release. Move-only; never copied implicitly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ipn {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size);  // zero-filled; aborts if memory cannot be had
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // An independent copy (explicit: secrets should not multiply by accident).
  SecretBytes Clone() const;
  static SecretBytes Random(size_t size);

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  std::span<uint8_t> mutable_span() { return {data_, size_}; }

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Wipes a buffer that held a secret (sodium_memzero).
void Wipe(void* data, size_t size);

}  // namespace ipn
