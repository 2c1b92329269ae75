// Fuzz target: the signed policy bundle file as an operator hands it to the core
// (policy/bundle.h, PolicyStore::Load). Selector 0: the file as given, checked against an
// administrator's key (a file the fuzzer makes never verifies). Selector 1: the bytes as
// a PolicyBundle that has passed the signature check, to Policy::FromBundleBytes — the
// validation every row must pass. Selector 2: the bytes signed with the administrator's
// key and loaded by a PolicyStore, as `ipn policy sign` + reload would.
#include <span>

#include "fuzz/fuzz_check.h"
#include "policy/bundle.h"
#include "policy/policy.h"
#include "policy/policy_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ipn::policy::AdminKeyPair kAdmin = ipn::policy::GenerateAdminKeyPair();
  const ipn::fuzz::FuzzInput in(data, size);
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(in.rest.data()),
                                       in.rest.size());
  switch (in.selector % 3) {
    case 0: FUZZ_CHECK(!ipn::policy::VerifyBundle(bytes, kAdmin.public_key).ok()); break;
    case 1: {
      auto policy = ipn::policy::Policy::FromBundleBytes(bytes);
      if (policy.ok()) FUZZ_CHECK(*policy != nullptr);
      break;
    }
    default: {
      auto signed_file = ipn::policy::SignBundle(bytes, kAdmin.secret_key.span());
      if (!signed_file.ok()) break;
      ipn::policy::PolicyStore store(kAdmin.public_key);
      if (store.Load(*signed_file).ok()) FUZZ_CHECK(store.Current() != nullptr);
      break;
    }
  }
  return 0;
}
