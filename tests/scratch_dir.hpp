// A scratch directory for one test, unique to the process and removed (with its contents) at the
// end of the scope: the file-writing tests' shared fixture.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace fugue_test {

struct ScratchDir {
  std::filesystem::path dir;
  explicit ScratchDir(std::string_view name)
      : dir(std::filesystem::temp_directory_path() /
            ("fugue_test_" + std::string(name) + "_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace fugue_test
