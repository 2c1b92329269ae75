// WipeOnExit: wipes a string holding a secret (a resident code) when the scope that
// received it ends, on every path out of it. One guard at a message's entry replaces a
// wipe before each return, which a new early return would silently miss.
#pragma once

#include <sodium.h>

#include <string>

namespace ipn {

class WipeOnExit {
 public:
  // `secret` may be null (nothing to wipe); it must outlive the guard.
  explicit WipeOnExit(std::string* secret) : secret_(secret) {}
  ~WipeOnExit() {
    // size(), not capacity(): the bytes past size() were never part of this value. A
    // string that grew was reallocated by the protobuf or std::string code that filled
    // it, so earlier buffers are the filler's to wipe (envelope_io wipes message bytes).
    if (secret_ != nullptr && !secret_->empty()) sodium_memzero(secret_->data(), secret_->size());
  }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string* secret_;
};

}  // namespace ipn
