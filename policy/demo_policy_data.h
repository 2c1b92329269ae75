// The demo policy's source files as byte arrays, defined in the demo_policy_data.cc that
// embed_demo_policy.cmake generates from data/*.csv at build time. Internal to policy/.
#pragma once

#include <cstddef>

namespace ipn::policy {

struct EmbeddedFile {
  const char* name;
  const unsigned char* data;  // size bytes, then a NUL
  size_t size;
};

extern const EmbeddedFile kDemoPolicyFiles[];
extern const size_t kDemoPolicyFileCount;

}  // namespace ipn::policy
