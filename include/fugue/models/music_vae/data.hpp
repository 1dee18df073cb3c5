// fugue/models/music_vae/data.hpp — music::Batch (class ids) -> MusicVAE batches.
//
// Contract: melody_batch(ids [N * S], N, S) -> enc_input = one-hot [N, S, 90], targets = {ids};
// drum_batch(ids) -> enc_input = the 10-wide drum roll (9 classes + "no hit"; docs/music_vae.md, "Data"),
// targets = {ids} in the 512-class bitmask space. Ids outside the depth raise fugue::error.
#pragma once

#include <vector>

#include "fugue/core/error.hpp"
#include "fugue/core/host_span.hpp"
#include "fugue/models/music_vae/configs.hpp"
#include "fugue/models/music_vae/model.hpp"
#include "fugue/music/dataset.hpp"

namespace fugue::models::music_vae {

template <Scalar T = float, Backend B = cpu::native>
Batch<T, B> melody_batch(const std::vector<int32_t>& ids, index_t n, index_t steps) {
  FUGUE_CHECK(index_t(ids.size()) == n * steps, "melody_batch: ", ids.size(), " ids for ", n, " x ", steps);
  Batch<T, B> b;
  b.enc_input = Tensor<T, B>::zeros({n, steps, kMelodyDepth});
  b.targets.assign(1, std::vector<int>(ids.begin(), ids.end()));
  HostSpan<T, B> x(b.enc_input);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    FUGUE_CHECK(ids[i] >= 0 && ids[i] < kMelodyDepth, "melody_batch: class ", ids[i], " at ", i, " outside [0, 90)");
    x[index_t(i) * kMelodyDepth + ids[i]] = T(1);
  }
  x.commit();
  return b;
}
template <Scalar T = float, Backend B = cpu::native>
Batch<T, B> melody_batch(const music::Batch& mb) {
  return melody_batch<T, B>(mb.ids, mb.batch, mb.steps);
}

template <Scalar T = float, Backend B = cpu::native>
Batch<T, B> drum_batch(const std::vector<int32_t>& ids, index_t n, index_t steps) {
  FUGUE_CHECK(index_t(ids.size()) == n * steps, "drum_batch: ", ids.size(), " ids for ", n, " x ", steps);
  Batch<T, B> b;
  b.enc_input = Tensor<T, B>::zeros({n, steps, kDrumRollDepth});
  b.targets.assign(1, std::vector<int>(ids.begin(), ids.end()));
  HostSpan<T, B> x(b.enc_input);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    FUGUE_CHECK(ids[i] >= 0 && ids[i] < kDrumOutputDepth, "drum_batch: class ", ids[i], " at ", i, " outside [0, 512)");
    T* row = x.data() + index_t(i) * kDrumRollDepth;
    if (ids[i] == 0) row[9] = T(1);
    for (int k = 0; k < 9; ++k)
      if (ids[i] & (1 << k)) row[k] = T(1);
  }
  x.commit();
  return b;
}

}  // namespace fugue::models::music_vae
