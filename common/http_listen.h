// Starting a bound cpp-httplib server on its own thread, safely stoppable at once.
//
// Why: httplib's Server::stop() does nothing until the listening thread has marked the
// server running; a stop() that comes first (a process told to stop right after it
// started) leaves the thread listening and the join that follows hangs for ever. So the
// thread is started and this returns only once the server listens.
#pragma once

#include <httplib.h>

#include <chrono>
#include <thread>

#include "common/status.h"

namespace ipn {

// `server` must be bound (bind_to_port / bind_to_any_port). On success `*thread` runs the
// server until server.stop(); the caller stops and joins it.
inline Status ListenInBackground(httplib::Server& server, std::thread* thread) {
  *thread = std::thread([&server] { server.listen_after_bind(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (server.is_running()) return Status::Ok();
  server.stop();
  thread->detach();  // it never listened; it touches nothing of the caller's but `server`
  return Status::Unavailable("the HTTP server did not start listening");
}

}  // namespace ipn
