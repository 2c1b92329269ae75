// AnswerSeal: how an answer is sealed end to end from the provider's node to the
// inquirer's node, bound to its exchange (wire.proto SealedAnswer): the exchange id, both
// agencies and the outcome travel inside the crypto_box with the payload, and opening
// checks each against the exchange it is delivered for. A provider node that replays an
// old sealed answer under a new exchange id is refused.
#pragma once

#include <string>

#include "common/status.h"
#include "interface/peer_directory.h"
#include "ipn/v1/wire.pb.h"

namespace ipn::interface {

struct BoundAnswer {
  std::string exchange_id;
  std::string provider;  // the sealing node's agency
  std::string inquirer;  // the agency whose node may open it
  v1::Outcome outcome = v1::OUTCOME_UNSPECIFIED;
  std::string payload;  // wiped by the holder after use
};

// Seals `a` to `a.inquirer`'s node (vouched for in `peers`) into `out` (nonce,
// sealed_answer, and the exchange id and outcome in clear for routing).
Status SealAnswer(const PeerDirectory& peers, const BoundAnswer& a, v1::Answer* out);

// Opens `in`, sent by `from` (the ZAP-authenticated agency) to this node (`self`):
// Corruption when it fails authentication, PermissionDenied when it is bound to another
// exchange, sender or recipient than the one it arrived as.
Result<BoundAnswer> OpenAnswer(const PeerDirectory& peers, const std::string& from,
                               const std::string& self, const v1::Answer& in);

}  // namespace ipn::interface
