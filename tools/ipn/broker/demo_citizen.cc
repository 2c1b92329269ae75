// The demo's citizen: chosen with the demo dataset's own rule, enrolled over the portal's
// HTTP API like any browser would (public key only), credential written as a JWK.
#include "tools/ipn/broker/demo_citizen.h"

#include <httplib.h>
#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/envelope_io.h"
#include "common/file_util.h"
#include "tools/ipn-agency/demo_dataset.h"

namespace ipn::cli {

Result<DemoCitizen> EnrolDemoCitizen(int portal_port, const std::vector<std::string>& codes,
                                     size_t asked, const std::string& credential_file) {
  // The municipality's dataset decides, per person, whether its public-assistance answer
  // is withheld from the person; the demo's people are "P100000", "P100001", …
  demo::DemoDataset municipality("MUN-131016", "");
  DemoCitizen citizen;
  for (size_t i = 0; i < asked && i < codes.size(); ++i) {
    demo::DatasetAnswer a =
        municipality.AnswerFor("P" + std::to_string(100000 + i), "public-assistance");
    if (a.held && a.non_disclosure) {
      citizen.index = static_cast<int>(i);
      break;
    }
  }
  if (citizen.index < 0) return Status::NotFound("no demo resident has a withheld provision");

  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  nlohmann::json jwk = {{"kty", "OKP"},
                        {"crv", "Ed25519"},
                        {"d", Base64UrlEncode({sk, crypto_sign_SEEDBYTES})},
                        {"x", Base64UrlEncode({pk, sizeof pk})}};
  sodium_memzero(sk, sizeof sk);
  std::string jwk_text = jwk.dump() + "\n";
  Status written = WriteFileAtomic(credential_file, jwk_text);
  WipeString(&jwk_text);
  std::string& d = jwk["d"].get_ref<std::string&>();
  WipeString(&d);
  IPN_RETURN_IF_ERROR(written);

  nlohmann::json request = {{"resident_code", codes[static_cast<size_t>(citizen.index)]},
                            {"public_key", Base64UrlEncode({pk, sizeof pk})}};
  std::string body = request.dump();
  WipeString(&request["resident_code"].get_ref<std::string&>());
  httplib::Client client("127.0.0.1", portal_port);
  client.set_read_timeout(15, 0);
  httplib::Result res = client.Post("/api/enrol", body, "application/json");
  WipeString(&body);
  if (!res) return Status::Unavailable("the portal did not answer the enrolment");
  if (res->status != 201) {
    return Status::Internal("the portal refused the demo citizen's enrolment: " + res->body);
  }
  citizen.credential_file = credential_file;
  citizen.portal_url = "http://127.0.0.1:" + std::to_string(portal_port) + "/";
  return citizen;
}

}  // namespace ipn::cli
