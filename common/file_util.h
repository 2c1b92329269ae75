// Small file helpers: whole-file reads, and atomic, durable whole-file writes
// (write a temporary file, fsync it, rename it over the target, fsync the folder),
// so a crash leaves either the old file or the new one, never half of one.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"

namespace ipn {

Result<std::string> ReadFile(const std::string& path);
// Creates the file with mode 0600.
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> contents);
Status WriteFileAtomic(const std::string& path, const std::string& contents);
// Creates a directory (and parents) with mode 0700 if it does not exist.
Status EnsureDirectory(const std::string& path);

}  // namespace ipn
