// fugue/dsp/db.hpp — decibel conversions, in the two conventions the Magenta models use.
//
// Contract (all elementwise, in place on a span; T float or double, computed in T):
// - power_to_db (librosa.power_to_db):  10 log10(max(amin, S)) - 10 log10(max(amin, ref)); then, if
//   top_db >= 0, clipped below at (max over the whole span) - top_db. Defaults amin 1e-10, ref 1,
//   top_db 80 (Onsets and Frames). Pass top_db < 0 for no clipping (librosa top_db=None).
// - amplitude_to_db (librosa.amplitude_to_db): 20 log10(max(amin, |S|)) - 20 log10(max(amin, ref)), same
//   top_db clipping; defaults amin 1e-5, top_db 80.
// - ddsp_power_to_db (DDSP HEAD core.power_to_db): 10 log10(max(S, 10^(-range/10))) - ref_db, clipped
//   below at -range_db. Defaults ref_db 0, range_db 80.
// - ddsp_amplitude_to_db: the same with 20 log10 and amin 10^(-range/20).
#pragma once

#include <algorithm>
#include <cmath>
#include <span>

namespace fugue::dsp {

namespace detail {
template <class T>
void clip_top(std::span<T> x, T top_db) {
  if (top_db < T(0) || x.empty()) return;
  const T mx = *std::max_element(x.begin(), x.end());
  for (auto& v : x) v = std::max(v, mx - top_db);
}
}  // namespace detail

template <class T>
void power_to_db(std::span<T> S, T ref = T(1), T amin = T(1e-10), T top_db = T(80)) {
  const T off = T(10) * std::log10(std::max(amin, ref));
  for (auto& v : S) v = T(10) * std::log10(std::max(amin, v)) - off;
  detail::clip_top(S, top_db);
}

template <class T>
void amplitude_to_db(std::span<T> S, T ref = T(1), T amin = T(1e-5), T top_db = T(80)) {
  const T off = T(20) * std::log10(std::max(amin, ref));
  for (auto& v : S) v = T(20) * std::log10(std::max(amin, std::abs(v))) - off;
  detail::clip_top(S, top_db);
}

template <class T>
void ddsp_power_to_db(std::span<T> S, T ref_db = T(0), T range_db = T(80)) {
  const T amin = std::pow(T(10), -range_db / T(10));
  for (auto& v : S) v = std::max(T(10) * std::log10(std::max(v, amin)) - ref_db, -range_db);
}

template <class T>
void ddsp_amplitude_to_db(std::span<T> S, T ref_db = T(0), T range_db = T(80)) {
  const T amin = std::pow(T(10), -range_db / T(20));
  for (auto& v : S) v = std::max(T(20) * std::log10(std::max(v, amin)) - ref_db, -range_db);
}

}  // namespace fugue::dsp
