// ConnectedNodes: the nodes that said Hello, and the Welcome that vouches for them.
#include "core/connected_nodes.h"

namespace ipn::core {

void ConnectedNodes::Connect(const std::string& agency, std::string answer_endpoint) {
  nodes_[agency] = std::move(answer_endpoint);
}

bool ConnectedNodes::Disconnect(const std::string& agency) {
  return nodes_.erase(agency) > 0;
}

const std::string* ConnectedNodes::AnswerEndpoint(std::string_view agency) const {
  auto it = nodes_.find(agency);
  return it == nodes_.end() ? nullptr : &it->second;
}

v1::Welcome ConnectedNodes::MakeWelcome(const policy::Policy& policy) const {
  v1::Welcome welcome;
  welcome.set_policy_version(policy.version());
  for (const auto& [code, endpoint] : nodes_) {
    const policy::Agency* agency = policy.FindAgency(code);
    if (agency == nullptr || agency->status != policy::AgencyStatus::kActive ||
        !agency->pia_approved || !agency->curve_public_key) {
      continue;
    }
    v1::PeerNode* peer = welcome.add_peers();
    peer->set_agency_code(code);
    peer->set_curve_public_key(agency->curve_public_key->data(), 32);
    peer->set_answer_endpoint(endpoint);
  }
  return welcome;
}

std::vector<std::string> ConnectedNodes::Agencies() const {
  std::vector<std::string> out;
  for (const auto& [code, endpoint] : nodes_) out.push_back(code);
  return out;
}

}  // namespace ipn::core
