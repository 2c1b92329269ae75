// SoftHsmStore: a SoftHSM2 token store in a directory of its own — the development and
// demo stand-in for hardware tokens and citizens' cards. Writes a softhsm2.conf there and
// initialises tokens with Debian's softhsm2-util, as an operator would (docs/security.md).
// SoftHSM2 reads its configuration once per process, when the module is first loaded:
// point SOFTHSM2_CONF at conf() and initialise tokens before that.
#pragma once

#include <string>

#include "common/status.h"

namespace ipn::token {

class SoftHsmStore {
 public:
  // DIR/softhsm2.conf and DIR/tokens (created).
  static Result<SoftHsmStore> Create(const std::string& dir);
  // Sets SOFTHSM2_CONF for this process and the processes it starts.
  void Activate() const;
  // A new token labelled `label` with user PIN `pin` and security officer PIN `so_pin`
  // (softhsm2-util --init-token, with SOFTHSM2_CONF = conf()).
  Status InitToken(const std::string& label, const std::string& pin,
                   const std::string& so_pin) const;
  const std::string& conf() const { return conf_; }
  const std::string& token_dir() const { return token_dir_; }

 private:
  std::string conf_;
  std::string token_dir_;
};

}  // namespace ipn::token
