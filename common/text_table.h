#pragma once
// Rows padded into columns two spaces apart, for the CLI's tables. Pure.
#include <string>
#include <vector>

namespace weft {

// Each row becomes one line (prefixed by `indent`, ending with a newline); the last column is not
// padded and trailing spaces are dropped.
std::string text_table(const std::vector<std::vector<std::string>>& rows,
                       const std::string& indent = "");

}  // namespace weft
