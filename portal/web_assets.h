// The portal's web page (portal/web/*), compiled in by cmake/embed_files.cmake.
#pragma once

#include <cstddef>

#include "common/embedded_file.h"

namespace ipn::portal {

extern const EmbeddedFile kWebAssets[];
extern const size_t kWebAssetCount;

}  // namespace ipn::portal
