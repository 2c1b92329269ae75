// A PeerNode the core would vouch for: `code`'s node with `keys`, at a fixed endpoint.
#pragma once

#include <string>

#include "common/curve_keys.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::interface::testing {

inline v1::PeerNode Peer(const std::string& code, const CurveKeyPair& keys) {
  v1::PeerNode p;
  p.set_agency_code(code);
  p.set_curve_public_key(keys.public_key.data(), keys.public_key.size());
  p.set_answer_endpoint("tcp://127.0.0.1:1");
  return p;
}

}  // namespace ipn::interface::testing
