// Serving a page compiled into the binary (common/embedded_file.h) from a cpp-httplib
// server: each file at /NAME with its content type, index.html also at /. Used by the
// portal and the commission's desk.
#pragma once

#include <httplib.h>

#include <string>

#include "common/embedded_file.h"

namespace ipn {

inline void ServeEmbeddedFiles(httplib::Server& server, const EmbeddedFile* files, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const EmbeddedFile& f = files[i];
    const std::string name = f.name;
    const std::string type = name.ends_with(".html")  ? "text/html; charset=utf-8"
                             : name.ends_with(".js")  ? "text/javascript; charset=utf-8"
                             : name.ends_with(".css") ? "text/css; charset=utf-8"
                                                      : "application/octet-stream";
    const std::string body(reinterpret_cast<const char*>(f.data), f.size);
    auto serve = [body, type](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, type.c_str());
    };
    server.Get("/" + name, serve);
    if (name == "index.html") server.Get("/", serve);
  }
  server.Get("/favicon.ico",
             [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
}

}  // namespace ipn
