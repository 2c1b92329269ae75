// AnswerSeal: sealing and opening answers bound to their exchange.
#include "interface/answer_seal.h"

#include "common/wipe_guard.h"

namespace ipn::interface {

Status SealAnswer(const PeerDirectory& peers, const BoundAnswer& a, v1::Answer* out) {
  v1::SealedAnswer inner;
  inner.set_exchange_id(a.exchange_id);
  inner.set_provider_code(a.provider);
  inner.set_inquirer_code(a.inquirer);
  inner.set_outcome(a.outcome);
  inner.set_payload(a.payload);
  std::string plain;
  WipeOnExit wipe_plain(&plain);
  WipeOnExit wipe_inner(inner.mutable_payload());
  if (!inner.SerializeToString(&plain)) return Status::Internal("cannot encode the answer");
  IPN_RETURN_IF_ERROR(
      peers.Seal(a.inquirer, plain, out->mutable_nonce(), out->mutable_sealed_answer()));
  out->set_exchange_id(a.exchange_id);
  out->set_outcome(a.outcome);
  return Status::Ok();
}

Result<BoundAnswer> OpenAnswer(const PeerDirectory& peers, const std::string& from,
                               const std::string& self, const v1::Answer& in) {
  std::string plain;
  WipeOnExit wipe_plain(&plain);
  IPN_RETURN_IF_ERROR(peers.Open(from, in.nonce(), in.sealed_answer(), &plain));
  v1::SealedAnswer inner;
  WipeOnExit wipe_inner(inner.mutable_payload());
  if (!inner.ParseFromString(plain)) {
    return Status::InvalidArgument("the sealed answer from " + from + " does not decode");
  }
  // Each binding is checked against what the transport and the routing say: the sealed
  // fields cannot be altered (the box is authenticated), the outer ones can.
  if (inner.exchange_id() != in.exchange_id()) {
    return Status::PermissionDenied("a sealed answer for exchange " + inner.exchange_id() +
                                    " was sent as the answer to exchange " + in.exchange_id());
  }
  if (inner.provider_code() != from) {
    return Status::PermissionDenied("a sealed answer of " + inner.provider_code() +
                                    " was sent by " + from);
  }
  if (inner.inquirer_code() != self) {
    return Status::PermissionDenied("a sealed answer for " + inner.inquirer_code() +
                                    " was sent to " + self);
  }
  BoundAnswer a;
  a.exchange_id = inner.exchange_id();
  a.provider = inner.provider_code();
  a.inquirer = inner.inquirer_code();
  a.outcome = inner.outcome();
  a.payload = inner.payload();
  return a;
}

}  // namespace ipn::interface
