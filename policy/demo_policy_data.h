// The demo policy's source files as byte arrays, defined in the demo_policy_data.cc that
// cmake/embed_files.cmake generates from data/*.csv at build time. Internal to policy/.
#pragma once

#include <cstddef>

#include "common/embedded_file.h"

namespace ipn::policy {

using ::ipn::EmbeddedFile;

extern const EmbeddedFile kDemoPolicyFiles[];
extern const size_t kDemoPolicyFileCount;

}  // namespace ipn::policy
