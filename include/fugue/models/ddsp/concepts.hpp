// fugue/models/ddsp/concepts.hpp — the DDSP model's plug points as concepts.
//
// Contract: Model<T, B, Decoder, Harmonics, NoiseBands, Reverb, Encoder> requires
// ControlDecoder<Decoder, T, B, 1 + Harmonics + NoiseBands>, AudioEncoder<Encoder, T, B,
// Decoder::z_dims> and ReverbStage<Reverb, T, B>, so a custom variant that does not fit fails
// to compile with the concept's name in the message (what is missing is in the notes below it).
//  * ControlDecoder<D, T, B, Outputs>: an nn::Module constructible from a Philox stream with
//    output_size == Outputs (amps | harmonic distribution | noise magnitudes) and z_dims; the
//    tape call d(tape, ld, f0) -> Var [N, F, Outputs] when z_dims is 0, d(tape, ld, f0, &z)
//    otherwise, and the same on tensors without a tape on a const decoder: forward(ld, f0[, &z])
//    (RnnFcDecoder).
//  * AudioEncoder<E, T, B, Z>: an nn::Module constructible from a Philox stream with
//    z_dims == Z; when z_dims > 0 also static features(audio [N, S]) -> Tensor and the tape call
//    e(tape, features, frames) -> z Var [N, frames, Z] and its const, tape-free twin
//    forward(features, frames) -> Tensor (MfccRnnEncoder). NoEncoder has z_dims 0.
//  * ReverbStage<R, T, B>: the reverb contract of reverbs.hpp: an nn::Module constructible
//    from a Philox stream with apply(tape, audio [N, S]) -> Var [N, S] (training), a const
//    render(audio tensor [N, S]) -> Tensor (inference), a const impulse_response() -> std::vector<T> and static length
//    (the streaming engine's).
#pragma once

#include <concepts>
#include <vector>

#include "fugue/autodiff/tape.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/core/tensor.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::models::ddsp {

template <class D, class T, class B, index_t Outputs>
concept ControlDecoder =
    nn::Module<D> && std::constructible_from<D, Philox> &&
    requires {
      { D::z_dims } -> std::convertible_to<index_t>;
      { D::output_size } -> std::convertible_to<index_t>;
    } && (D::output_size == Outputs) &&  // amps (1) + harmonics + noise bands
    (D::z_dims > 0 ||
     requires(D& d, const D& cd, ad::Tape<T, B>& tape, const ad::Var<T, B>& v, const Tensor<T, B>& x) {
       { d(tape, v, v) } -> std::convertible_to<ad::Var<T, B>>;
       { cd.forward(x, x) } -> std::convertible_to<Tensor<T, B>>;
     }) &&
    (D::z_dims == 0 || requires(D& d, const D& cd, ad::Tape<T, B>& tape, const ad::Var<T, B>& v, const ad::Var<T, B>* z,
                                const Tensor<T, B>& x, const Tensor<T, B>* zx) {
      { d(tape, v, v, z) } -> std::convertible_to<ad::Var<T, B>>;
      { cd.forward(x, x, zx) } -> std::convertible_to<Tensor<T, B>>;
    });

template <class E, class T, class B, index_t Z>
concept AudioEncoder =
    nn::Module<E> && std::constructible_from<E, Philox> &&
    requires {
      { E::z_dims } -> std::convertible_to<index_t>;
    } && (E::z_dims == Z) &&  // the decoder's z width
    (E::z_dims == 0 || requires(E& e, const E& ce, ad::Tape<T, B>& tape, const Tensor<T, B>& audio, index_t frames) {
      { E::features(audio) } -> std::convertible_to<Tensor<T, B>>;
      { e(tape, E::features(audio), frames) } -> std::convertible_to<ad::Var<T, B>>;
      { ce.forward(E::features(audio), frames) } -> std::convertible_to<Tensor<T, B>>;
    });

template <class R, class T, class B>
concept ReverbStage =
    nn::Module<R> && std::constructible_from<R, Philox> &&
    requires(R& r, const R& cr, ad::Tape<T, B>& tape, const ad::Var<T, B>& audio, const Tensor<T, B>& samples) {
      { R::length } -> std::convertible_to<index_t>;
      { r.apply(tape, audio) } -> std::convertible_to<ad::Var<T, B>>;
      { cr.render(samples) } -> std::convertible_to<Tensor<T, B>>;
      { cr.impulse_response() } -> std::convertible_to<std::vector<T>>;
    };

}  // namespace fugue::models::ddsp
