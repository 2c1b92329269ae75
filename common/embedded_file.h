// A file compiled into the binary (see cmake/embed_files.cmake).
#pragma once

#include <cstddef>

namespace ipn {

struct EmbeddedFile {
  const char* name;
  const unsigned char* data;  // size bytes, then a NUL
  size_t size;
};

}  // namespace ipn
