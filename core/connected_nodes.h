// ConnectedNodes: the agency nodes that said Hello to this core, with the endpoints where
// they take answers from other nodes, and the Welcome that vouches for them. Kept in
// memory only: it is rebuilt from the nodes' Hellos.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "ipn/v1/wire.pb.h"
#include "policy/policy.h"

namespace ipn::core {

class ConnectedNodes {
 public:
  void Connect(const std::string& agency, std::string answer_endpoint);
  // True if the agency was connected.
  bool Disconnect(const std::string& agency);
  // The agency's answer endpoint, or nullptr when its node is not connected.
  const std::string* AnswerEndpoint(std::string_view agency) const;
  size_t size() const { return nodes_.size(); }

  // The peers `policy` lets the core vouch for: connected, active, approved, with a key.
  v1::Welcome MakeWelcome(const policy::Policy& policy) const;
  // Every connected agency, in code order.
  std::vector<std::string> Agencies() const;

 private:
  std::map<std::string, std::string, std::less<>> nodes_;  // agency -> answer endpoint
};

}  // namespace ipn::core
