// fugue/version.hpp — the library's version (semantic versioning).
//
// Contract: FUGUE_VERSION_MAJOR / _MINOR / _PATCH, FUGUE_VERSION (major * 10000 + minor * 100 +
// patch, for #if comparisons) and FUGUE_VERSION_STRING ("major.minor.patch"); fugue::version()
// returns the string. This header is the one place the version is written: CMake's project
// version is read from it, and model files record it (io/model_file.hpp).
#pragma once

#include <string_view>

#define FUGUE_VERSION_MAJOR 0
#define FUGUE_VERSION_MINOR 1
#define FUGUE_VERSION_PATCH 0
#define FUGUE_VERSION (FUGUE_VERSION_MAJOR * 10000 + FUGUE_VERSION_MINOR * 100 + FUGUE_VERSION_PATCH)
#define FUGUE_VERSION_STRING "0.1.0"

namespace fugue {

constexpr std::string_view version() noexcept { return FUGUE_VERSION_STRING; }

}  // namespace fugue
