// fugue/models/ddsp/decoder.hpp — DDSP's RnnFcDecoder (HEAD layout; docs/ddsp.md, "Decoder").
//
// Contract
//  * RnnFcDecoder<T, B, Ch, LayersPerStack, Rnn, Outputs, ZDims = 0>: inputs ld_scaled and
//    f0_scaled, each [N, F, 1], and with ZDims > 0 a latent z [N, F, ZDims] (HEAD input_keys
//    order: loudness, f0, z). Per input an FcStack of LayersPerStack x (Dense(Ch) ->
//    LayerNorm(eps 1e-3) -> leaky_relu(0.2)) (0 layers: identity); g = GRU(Rnn) over
//    [h_ld ; h_f0 (; h_z)]; o = FcStack_out([h_ld ; h_f0 (; h_z) ; g]) (HEAD: the z stack goes to
//    the output stack too); y = Dense(Outputs)(o) -> [N, F, Outputs] raw synth controls.
//  * Parameters: "ld_stack.*", "f0_stack.*", ("z_stack.*"), "gru.0.*" (Keras layout,
//    reset_after=True), "out_stack.*", "dense.weight" [Outputs, in], "dense.bias" [Outputs].
//  * operator()(tape, ld, f0): training path (one fused BPTT node for the GRU).
//    forward(ld, f0): tape-free, whole sequences.
//  * Streaming (models/ddsp/streaming.hpp, ZDims == 0, host backends only): StepWorkspace holds every buffer one frame
//  needs;
//    step(ws, ld, f0, h, out) runs one frame at batch 1 on the calling thread with serial
//    GEMVs: no allocation, lock or system call. Results equal forward() up to float rounding
//    (the GEMV and the batched GEMM sum in different orders).
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fugue/autodiff/ops/shape.hpp"
#include "fugue/backend/cpu/gemv.hpp"
#include "fugue/backend/cpu/gemv_f16.hpp"
#include "fugue/backend/cpu/layer_norm.hpp"
#include "fugue/nn/gru.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/nn/mlp.hpp"
#include "fugue/ops/concat.hpp"

namespace fugue::models::ddsp {

template <Scalar T, Backend B, index_t Ch, int LayersPerStack, index_t Rnn, index_t Outputs, index_t ZDims = 0>
class RnnFcDecoder {
  static_assert(Ch > 0 && Rnn > 0 && Outputs > 0 && LayersPerStack >= 0 && ZDims >= 0);

 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  using Stack = nn::FcStack<T, B, 1, Ch, LayersPerStack>;
  struct NoZStack {  // ZDims == 0: no z stack at all (no storage)
    NoZStack(index_t, index_t, Philox) {}
  };
  using ZStack =
      std::conditional_t<ZDims == 0, NoZStack, nn::FcStack<T, B, (ZDims == 0 ? 1 : ZDims), Ch, LayersPerStack>>;
  static constexpr index_t z_dims = ZDims;
  static constexpr index_t stack_width = LayersPerStack == 0 ? 1 : Ch;
  static constexpr index_t z_width = ZDims == 0 ? 0 : (LayersPerStack == 0 ? ZDims : Ch);
  static constexpr index_t gru_input = 2 * stack_width + z_width;
  static constexpr index_t out_input = gru_input + Rnn;
  static constexpr index_t out_width = LayersPerStack == 0 ? out_input : Ch;
  using OutStack = nn::FcStack<T, B, out_input, Ch, LayersPerStack>;
  static constexpr index_t hidden_size = Rnn;
  static constexpr index_t output_size = Outputs;

  explicit RnnFcDecoder(Philox init = {0xdd5b, 0})
      : ld_stack_(1, Ch, Philox{init.seed, init.stream + 100}),
        f0_stack_(1, Ch, Philox{init.seed, init.stream + 200}),
        z_stack_(ZDims == 0 ? 1 : ZDims, Ch, Philox{init.seed, init.stream + 250}),
        gru_(gru_input, Rnn, Philox{init.seed, init.stream + 300}),
        out_stack_(out_input, Ch, Philox{init.seed, init.stream + 400}),
        dense_(out_width, Outputs, Philox{init.seed, init.stream + 500}) {}

  var_type operator()(ad::Tape<T, B>& tape, const var_type& ld, const var_type& f0, const var_type* z = nullptr) {
    check_inputs(ld.shape(), f0.shape(), z ? &z->shape() : nullptr);
    std::vector<var_type> hs{ld_stack_(tape, ld), f0_stack_(tape, f0)};
    if constexpr (ZDims > 0) hs.push_back(z_stack_(tape, *z));
    const var_type x = ad::concat(hs, 2);
    const var_type g = gru_(tape, x).y;
    const var_type o = out_stack_(tape, ad::concat(std::vector<var_type>{x, g}, 2));
    return dense_(tape, o);
  }

  tensor_type forward(const tensor_type& ld, const tensor_type& f0, const tensor_type* z = nullptr) const {
    check_inputs(ld.shape(), f0.shape(), z ? &z->shape() : nullptr);
    tensor_type x = ops::concat_last(ld_stack_.forward(ld), f0_stack_.forward(f0));
    if constexpr (ZDims > 0) x = ops::concat_last(x, z_stack_.forward(*z));
    const tensor_type g = gru_.forward(x);
    return dense_.forward(out_stack_.forward(ops::concat_last(x, g)));
  }

  // ---- streaming, batch 1 -------------------------------------------------------------
  struct StepWorkspace {
    std::vector<T> a, b, cat, p, q;
    StepWorkspace() {
      const std::size_t w = std::size_t(std::max<index_t>({Ch, out_input, 3 * Rnn}));
      a.assign(w, T(0));
      b.assign(w, T(0));
      cat.assign(std::size_t(out_input), T(0));
      p.assign(std::size_t(3 * Rnn), T(0));
      q.assign(std::size_t(3 * Rnn), T(0));
    }
  };

  // The GRU kernels transposed to [3H, In] and [3H, H] and stored as IEEE binary16 (float
  // models only): rows the step's GEMVs stream contiguously, half the bytes a frame reads
  // (DDSP-VST ships float16-quantized exports too). Each weight then carries a rounding error of
  // at most 2^-11 relative (|w| >= 2^-14) or 2^-25 absolute (smaller |w|); weights beyond
  // binary16's range (65504) are refused. Copies: call again after the weights change.
  // (float weights need no copy: step() reads the [In, 3H] kernels in place with the
  // row-streaming transposed GEMV, 4-20 % faster than a gemv_n over transposed float copies.)
  struct StepWeights {
    std::vector<std::uint16_t> kernel_h, recurrent_h;
  };
  StepWeights half_step_weights() const
    requires B::host_accessible
  {
    FUGUE_CHECK((std::is_same_v<T, float>),
                "RnnFcDecoder::half_step_weights: half-precision weights need a float model");
    const auto& cell = gru_.cell(0);
    auto conv = [](const std::vector<T>& v) {
      std::vector<std::uint16_t> h(v.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        FUGUE_CHECK(std::isfinite(double(v[i])) && std::abs(double(v[i])) <= 65504.0,
                    "RnnFcDecoder::half_step_weights: GRU weight ", double(v[i]), " is not representable in binary16");
        h[i] = cpu::kernels::to_half(float(v[i]));
      }
      return h;
    };
    StepWeights w;
    w.kernel_h = conv(cell.kernel.value.t().contiguous().to_vector());
    w.recurrent_h = conv(cell.recurrent_kernel.value.t().contiguous().to_vector());
    return w;
  }

  // One frame: h [Rnn] is the GRU state (updated in place), out [Outputs] the raw controls.
  // With sw (from half_step_weights()) the GRU reads its binary16 copies.
  void step(StepWorkspace& ws, T ld, T f0, T* h, T* out, const StepWeights* sw = nullptr) const
    requires B::host_accessible
  {
    static_assert(ZDims == 0, "the per-frame step has no z input (the MFCC encoder needs whole clips)");
    stack_step(ld_stack_, ld, ws, ws.cat.data());
    stack_step(f0_stack_, f0, ws, ws.cat.data() + stack_width);
    // GRU cell (kernel [In, 3H], recurrent_kernel [H, 3H]): p = x K, q = h U, fused gates.
    const auto& cell = gru_.cell(0);
    FUGUE_CHECK(!sw || (sw->kernel_h.size() == std::size_t(gru_input * 3 * Rnn) &&
                        sw->recurrent_h.size() == std::size_t(Rnn * 3 * Rnn)),
                "RnnFcDecoder::step: StepWeights not made by this decoder's half_step_weights()");
    if (sw) {
      if constexpr (std::is_same_v<T, float>) {
        cpu::kernels::gemv_f16_rows(3 * Rnn, gru_input, sw->kernel_h.data(), ws.cat.data(), ws.p.data());
        cpu::kernels::gemv_f16_rows(3 * Rnn, Rnn, sw->recurrent_h.data(), h, ws.q.data());
      } else {
        FUGUE_FAIL("RnnFcDecoder::step: half-precision weights need a float model");
      }
    } else {
      gemv_t(gru_input, 3 * Rnn, cell.kernel.value.data(), ws.cat.data(), ws.p.data());
      gemv_t(Rnn, 3 * Rnn, cell.recurrent_kernel.value.data(), h, ws.q.data());
    }
    nn::gru_gates<B>(Rnn, ws.p.data(), ws.q.data(), cell.bias.value.data(), h, static_cast<T*>(nullptr), h);
    std::copy_n(h, std::size_t(Rnn), ws.cat.data() + gru_input);
    const T* o = mlp_step(out_stack_, ws.cat.data(), out_input, ws);
    linear_step(dense_, o, out);
  }

  nn::GRU<T, B, gru_input, Rnn>& gru() { return gru_; }
  Stack& ld_stack() { return ld_stack_; }
  Stack& f0_stack() { return f0_stack_; }
  OutStack& out_stack() { return out_stack_; }
  nn::Linear<T, B>& dense() { return dense_; }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    ld_stack_.visit_parameters(f, nn::join_name(prefix, "ld_stack"));
    f0_stack_.visit_parameters(f, nn::join_name(prefix, "f0_stack"));
    if constexpr (ZDims > 0) z_stack_.visit_parameters(f, nn::join_name(prefix, "z_stack"));
    gru_.visit_parameters(f, nn::join_name(prefix, "gru"));
    out_stack_.visit_parameters(f, nn::join_name(prefix, "out_stack"));
    dense_.visit_parameters(f, nn::join_name(prefix, "dense"));
  }

 private:
  // The streaming step's SIMD kernels (step() needs a host backend; a device one has no arch).
  using Arch = cpu::arch_of_t<B>;

  static void check_inputs(const Shape& ld, const Shape& f0, const Shape* z) {
    FUGUE_CHECK(ld.rank() == 3 && ld[2] == 1 && f0 == ld,
                "RnnFcDecoder: ld_scaled and f0_scaled must both be [N, F, 1], got ", ld.str(), " and ", f0.str());
    if constexpr (ZDims > 0) {
      FUGUE_CHECK(z && z->rank() == 3 && (*z)[0] == ld[0] && (*z)[1] == ld[1] && (*z)[2] == ZDims,
                  "RnnFcDecoder: z must be [", ld[0], ", ", ld[1], ", ", ZDims, "], got ",
                  z ? z->str() : std::string("none"));
    } else {
      FUGUE_CHECK(!z, "RnnFcDecoder: this decoder takes no z (ZDims = 0)");
    }
  }
  // y [rows] = A^T x with A [inner, rows] row-major (serial: never the thread pool).
  static void gemv_t(index_t inner, index_t rows, const T* A, const T* x, T* y) {
    cpu::kernels::gemm_detail::gemv_t_cols<Arch>(0, rows, inner, T(1), A, rows, x, T(0), y);
  }
  // y [out] = W x + b with W [out, in] (torch layout).
  static void linear_step(const nn::Linear<T, B>& l, const T* x, T* y) {
    const auto& w = l.weight.value;
    const index_t out = w.dim(0), in = w.dim(1);
    cpu::kernels::gemm_detail::gemv_n_rows<Arch>(0, out, in, T(1), w.data(), in, x, T(0), y);
    const auto& b = l.bias.value;
    for (index_t i = 0; i < out; ++i) y[i] += b.data()[i];
  }
  template <class Mlp>
  static const T* mlp_step(const Mlp& m, const T* x, index_t in, StepWorkspace& ws) {
    if constexpr (LayersPerStack == 0) {
      (void)in;
      (void)ws;
      return x;
    } else {
      const T* cur = x;
      T* buf[2] = {ws.a.data(), ws.b.data()};
      for (int k = 0; k < LayersPerStack; ++k) {
        T* y = buf[k & 1];
        linear_step(m.linear(k), cur, y);
        const auto& n = m.norm(k);
        cpu::kernels::layer_norm_rows<Arch>(1, Ch, y, n.weight.value.data(), n.bias.value.data(), T(n.eps()), y,
                                            static_cast<T*>(nullptr), static_cast<T*>(nullptr));
        for (index_t i = 0; i < Ch; ++i) y[i] = y[i] >= T(0) ? y[i] : T(0.2) * y[i];
        cur = y;
      }
      return cur;
    }
  }
  static void stack_step(const Stack& s, T v, StepWorkspace& ws, T* dst) {
    const T* r = mlp_step(s, &v, 1, ws);
    std::copy_n(r, std::size_t(stack_width), dst);
  }

  Stack ld_stack_, f0_stack_;
  ZStack z_stack_;
  nn::GRU<T, B, gru_input, Rnn> gru_;
  OutStack out_stack_;
  nn::Linear<T, B> dense_;
};

}  // namespace fugue::models::ddsp
