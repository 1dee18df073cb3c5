// Peak memory and time of ddsp::Model::synthesize on 4 s of audio (configs::vst_16k, one row,
// one thread): the figure the inference-without-a-tape work is measured by.
//
//   synth_footprint [seconds=4] [repeats=5]
//
// Prints the process's peak resident set before the first call and after all calls (getrusage),
// their difference (what synthesis added at its peak), and the median / min / max wall time.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fugue/backend/cpu/threads.hpp"
#include "fugue/models/ddsp.hpp"

namespace {
double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // KiB on Linux
}
}  // namespace

int main(int argc, char** argv) {
  using namespace fugue;
  namespace dd = fugue::models::ddsp;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 4.0;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  cpu::set_num_threads(1);
  using Model = dd::configs::vst_16k<float>;
  Model model(dd::configs::vst_16k_options());
  const auto frames = index_t(seconds * model.options().frame_rate);
  std::vector<float> f0(static_cast<std::size_t>(frames), 0.f), ld(f0.size(), 0.f);
  for (std::size_t i = 0; i < f0.size(); ++i) {
    f0[i] = 220.f * (1.f + 0.5f * float(i % 50) / 50.f);
    ld[i] = -30.f - 20.f * float(i % 25) / 25.f;
  }
  const auto f0t = Tensor<float>::from(f0, {1, frames}), ldt = Tensor<float>::from(ld, {1, frames});
  const double before = peak_rss_mib();
  std::vector<double> ms;
  double checksum = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto y = model.synthesize(f0t, ldt, 7);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    checksum += double(y.data()[100]);
  }
  const double after = peak_rss_mib();
  std::sort(ms.begin(), ms.end());
  std::printf(
      "synthesize %.1f s (vst_16k, 1 thread): peak RSS %.1f MiB before, %.1f MiB after (+%.1f MiB); "
      "time median %.1f ms (min %.1f, max %.1f, %d runs); checksum %.6g\n",
      seconds, before, after, after - before, ms[ms.size() / 2], ms.front(), ms.back(), repeats, checksum);
  return 0;
}
