#pragma once
// Durable file writes for the data dir (ARCHITECTURE.md §6): a reader, or a host that loses power
// mid-write, sees either the old file or the new one, never a torn mix.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace weft {

// Writes `content` to a temporary file beside `path` created with `mode` (not widened by the
// umask's absence: the mode is set explicitly), fsyncs it, renames it over `path` and fsyncs the
// directory so the rename itself survives a crash. Throws std::system_error naming the path.
void write_file_atomic(const std::string& path, std::string_view content, mode_t mode);

// The whole file, or nullopt when it does not exist. Other errors (permissions, a directory)
// throw std::system_error naming the path, so callers never mistake them for "absent".
std::optional<std::string> read_file(const std::string& path);

}  // namespace weft
