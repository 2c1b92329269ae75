// The desk's web page (oversight/web/*, Chart.js from oversight/web/node_modules and the
// portal's verify.js), compiled in by cmake/embed_files.cmake.
#pragma once

#include <cstddef>

#include "common/embedded_file.h"

namespace ipn::oversight {

extern const EmbeddedFile kDeskWebAssets[];
extern const size_t kDeskWebAssetCount;

}  // namespace ipn::oversight
