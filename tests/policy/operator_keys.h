// An operator of the two-person rule in a unit test: an id and a fresh Ed25519 key pair
// (policy/two_person.h), whose approvals the test signs directly.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace ipn::policy {

struct OperatorKey {
  std::string id;
  std::array<uint8_t, 32> pk{};
  std::array<uint8_t, 64> sk{};
  explicit OperatorKey(std::string name) : id(std::move(name)) {
    crypto_sign_keypair(pk.data(), sk.data());
  }
};

}  // namespace ipn::policy
