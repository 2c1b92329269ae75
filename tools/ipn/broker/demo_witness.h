// The oversight commission's witness in `ipn demo`: its key, the disclosure page's trust
// document (records key and witness key, signed by the demo's trust root, whose public key
// is the default IPN_TRUST_ROOT_KEYS pinned in the page), and witness rounds
// (`ipn oversight witness`) that cosign the core's heads, so that citizens' histories are
// proven against a head the commission has seen.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "tools/localnet/local_network.h"

namespace ipn::cli {

class DemoWitness {
 public:
  // Makes the witness key under `dir`, learns the core's records key through the
  // commission's node, and writes the portal's trust document.
  static Result<std::unique_ptr<DemoWitness>> Start(localnet::LocalNetwork& net,
                                                    const std::string& bin_dir,
                                                    const std::string& dir);
  // One round: the core's fresh head cosigned (if it extends the last) and published.
  Status Round();

 private:
  std::string bin_dir_, dir_, node_, records_key_;
};

}  // namespace ipn::cli
