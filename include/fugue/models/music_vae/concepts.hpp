// fugue/models/music_vae/concepts.hpp — MusicVAE's plug points as concepts.
//
// Contract: MusicVAE<T, B, Encoder, Decoder, Z> requires SequenceEncoder<Encoder, T, B> and
// LatentDecoder<Decoder, T, B, Z>, so a custom variant that does not fit fails to compile with
// the concept's name in the message (what is missing is in the notes below it).
//  * SequenceEncoder<E, T, B>: an nn::Module constructible from a Philox stream, with static
//    widths input_extent (the input's last axis, controls included) and output_extent (the
//    encoding's width; mu and sigma are Dense layers of that input size), a tape call
//    e(tape, x [N, S, In]) -> Var [N, output_extent] and a const forward(x) -> Tensor.
//  * LatentDecoder<D, T, B, Z>: an nn::Module constructible from a Philox stream, conditioned
//    on z: cond_extent == Z; control_extent (per-step controls, 0 = none), num_outputs and
//    output_depths[k]; logits(tape, z, prevs, ctl) -> one Var per output and a const
//    sample(z, steps, start, temperature, rng, ctl) -> ids per output (decoders.hpp states
//    their semantics; const: inference state lives in the call, so threads may share a model).
//    HierarchicalLstmDecoder's Core is a LatentDecoder conditioned on the conductor's width.
#pragma once

#include <concepts>
#include <cstddef>
#include <vector>

#include "fugue/autodiff/tape.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/tensor.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::models::music_vae {

template <class E, class T, class B>
concept SequenceEncoder =
    nn::Module<E> && std::constructible_from<E, Philox> &&
    requires {
      { E::input_extent } -> std::convertible_to<index_t>;
      { E::output_extent } -> std::convertible_to<index_t>;
    } && (E::input_extent > 0) && (E::output_extent > 0) &&  // static widths, not fugue::dyn
    requires(E& e, const E& ce, ad::Tape<T, B>& tape, const ad::Var<T, B>& x, const Tensor<T, B>& t) {
      { e(tape, x) } -> std::convertible_to<ad::Var<T, B>>;
      { ce.forward(t) } -> std::convertible_to<Tensor<T, B>>;
    };

template <class D, class T, class B, index_t Z>
concept LatentDecoder =
    nn::Module<D> && std::constructible_from<D, Philox> &&
    requires {
      { D::cond_extent } -> std::convertible_to<index_t>;
      { D::control_extent } -> std::convertible_to<index_t>;
      { D::num_outputs } -> std::convertible_to<std::size_t>;
      { D::output_depths[0] } -> std::convertible_to<index_t>;
    } && (D::cond_extent == Z) &&  // conditioned on z (on the conductor's output below a conductor)
    requires(D& d, const D& cd, ad::Tape<T, B>& tape, const ad::Var<T, B>& z, const std::vector<Tensor<T, B>>& prevs,
             const Tensor<T, B>* ctl, const Tensor<T, B>& zt, index_t steps, const std::vector<std::vector<int>>& start,
             double temperature, Philox rng) {
      { d.logits(tape, z, prevs, ctl) } -> std::convertible_to<std::vector<ad::Var<T, B>>>;
      // Sampling is inference: const, so one model may decode on many threads at once.
      { cd.sample(zt, steps, start, temperature, rng, ctl) } -> std::convertible_to<std::vector<std::vector<int>>>;
    };

}  // namespace fugue::models::music_vae
