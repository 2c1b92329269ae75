// Fuzz target: an answer as the inquirer's node receives it from a provider's node
// (interface/answer_seal.h). Selector even: the bytes are the Answer message off the
// wire — no forged box ever opens. Selector odd: the bytes are the sealed plaintext,
// sealed by the genuine provider's key, so the inner SealedAnswer's decoding and every
// binding check run; whatever opens names exchange "x1", provider MUN and inquirer PEN.
#include "common/curve_keys.h"
#include "common/protobuf_log.h"
#include "fuzz/fuzz_check.h"
#include "interface/answer_seal.h"
#include "interface/peer_directory.h"
#include "tests/interface/peer_node.h"

namespace {

using ipn::interface::testing::Peer;

struct Nodes {
  Nodes() {
    FUZZ_CHECK(at_pen.Vouch(Peer("MUN", mun)).ok());
    FUZZ_CHECK(at_mun.Vouch(Peer("PEN", pen)).ok());
  }
  ipn::CurveKeyPair pen = ipn::CurveKeyPair::Generate();
  ipn::CurveKeyPair mun = ipn::CurveKeyPair::Generate();
  ipn::interface::PeerDirectory at_pen { &pen }, at_mun{&mun};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Nodes* nodes = [] {
    ipn::LimitProtobufLog();  // as the daemons do
    return new Nodes();
  }();
  const ipn::fuzz::FuzzInput in(data, size);
  ipn::v1::Answer answer;
  if (in.selector % 2 == 0) {
    if (!answer.ParseFromArray(in.rest.data(), static_cast<int>(in.rest.size()))) return 0;
    FUZZ_CHECK(!ipn::interface::OpenAnswer(nodes->at_pen, "MUN", "PEN", answer).ok());
    return 0;
  }
  FUZZ_CHECK(
      nodes->at_mun.Seal("PEN", in.rest, answer.mutable_nonce(), answer.mutable_sealed_answer())
          .ok());
  answer.set_exchange_id("x1");
  auto opened = ipn::interface::OpenAnswer(nodes->at_pen, "MUN", "PEN", answer);
  if (opened.ok()) {
    FUZZ_CHECK(opened->exchange_id == "x1");
    FUZZ_CHECK(opened->provider == "MUN" && opened->inquirer == "PEN");
  }
  return 0;
}
