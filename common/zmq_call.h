// ZmqCall: runs one cppzmq call and turns the exception it may throw into a Status, so
// that no ZeroMQ exception crosses a library boundary. Each daemon's main still has a
// last-resort handler (tools/daemon/last_resort.h) for anything that slips through.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <zmq.hpp>

#include "common/status.h"

namespace ipn {

// `what` names the call for the message, e.g. "bind tcp://127.0.0.1:7100". `call` returns
// void, or a Status that is passed on (for calls that also fail without throwing).
template <typename F>
Status ZmqCall(std::string_view what, F&& call) {
  try {
    if constexpr (std::is_same_v<std::invoke_result_t<F>, Status>) {
      return std::forward<F>(call)();
    } else {
      std::forward<F>(call)();
      return Status::Ok();
    }
  } catch (const zmq::error_t& e) {
    // EINVAL and EPROTONOSUPPORT come from a malformed endpoint: the caller's input.
    if (e.num() == EINVAL || e.num() == EPROTONOSUPPORT) {
      return Status::InvalidArgument(std::string(what) + ": " + e.what());
    }
    return Status::Unavailable(std::string(what) + ": " + e.what());
  }
}

}  // namespace ipn
