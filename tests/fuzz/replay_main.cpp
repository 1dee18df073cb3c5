// Replays every file of a seed-corpus folder through a fuzz target's
// LLVMFuzzerTestOneInput, so the harness runs in ordinary (non-clang) builds.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int count = 0;
  for (int a = 1; a < argc; ++a) {
    if (!std::filesystem::exists(argv[a])) continue;
    for (auto& entry : std::filesystem::recursive_directory_iterator(argv[a])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++count;
    }
  }
  // Also the empty input and a few degenerate ones.
  const uint8_t tiny[4] = {0, 0xff, 0x7f, 0x80};
  for (size_t n = 0; n <= 4; ++n) LLVMFuzzerTestOneInput(tiny, n);
  std::printf("replayed %d corpus files\n", count);
  return 0;
}
