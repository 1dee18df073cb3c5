// Test helper: builds raw Standard MIDI File bytes by hand, so tests can feed the reader
// exact (also malformed) byte sequences that fugue's own writer would never produce.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace fugue_test {

inline void be(std::vector<uint8_t>& o, uint32_t v, int n) {
  for (int s = 8 * (n - 1); s >= 0; s -= 8) o.push_back(static_cast<uint8_t>(v >> s));
}

inline std::vector<uint8_t> header(int format, int ntracks, int division, uint32_t len = 6) {
  std::vector<uint8_t> o{'M', 'T', 'h', 'd'};
  be(o, len, 4);
  be(o, static_cast<uint32_t>(format), 2);
  be(o, static_cast<uint32_t>(ntracks), 2);
  be(o, static_cast<uint32_t>(division), 2);
  return o;
}

// Appends an MTrk chunk holding `body` (the chunk length is computed unless given).
inline void track(std::vector<uint8_t>& o, const std::vector<uint8_t>& body, int64_t len = -1) {
  o.insert(o.end(), {'M', 'T', 'r', 'k'});
  be(o, static_cast<uint32_t>(len < 0 ? body.size() : static_cast<std::size_t>(len)), 4);
  o.insert(o.end(), body.begin(), body.end());
}

}  // namespace fugue_test
