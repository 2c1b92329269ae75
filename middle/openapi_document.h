// The middle server's OpenAPI document (docs/middle-openapi.json), compiled in by
// cmake/embed_files.cmake and served at /v1/openapi.json.
#pragma once

#include <cstddef>

#include "common/embedded_file.h"

namespace ipn::middle {

extern const EmbeddedFile kOpenApiFiles[];
extern const size_t kOpenApiFileCount;

}  // namespace ipn::middle
