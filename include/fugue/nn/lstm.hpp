// fugue/nn/lstm.hpp — LSTM cell and (stacked, optionally bidirectional) LSTM layer.
//
// Contract
//  * Math (TF LSTMBlockCell without peepholes / cell clip, = torch.nn.LSTM after
//    loading): with a = [x, h] W + b,  gate blocks [i, j, f, o] (j = c~):
//      c' = s(f + forget_bias) * c + s(i) * tanh(j),   h' = s(o) * tanh(c').
//  * Parameters of an LSTMCell (visit_parameters names, relative to the prefix):
//      "kernel" [In + H, 4H]   rows 0..In-1 multiply x, rows In..In+H-1 multiply h;
//                              column blocks [i | j | f | o] (TF's layout, verbatim)
//      "bias"   [4H]           same block order
//    forget_bias is NOT a parameter: a per-cell scalar added to the f pre-activation at
//    run time (default 1.0 as TF; load_pytorch sets it to 0, load_tensorflow to the
//    value given, 1.0 by default), so a TF checkpoint loads verbatim and runs TF's numbers.
//  * LSTM<T, B, In, H, Layers, Bidirectional> names its parameters
//      "<l>.kernel", "<l>.bias"                         (unidirectional)
//      "<l>.fw.kernel", "<l>.fw.bias", "<l>.bw.kernel", "<l>.bw.bias"   (bidirectional)
//    for l = 0..Layers-1; layer l > 0 reads the previous layer's output (2H wide when
//    bidirectional: [fw | bw] concatenated, MusicVAE's stacked bidirectional encoder).
//  * Shapes: input [B, T, In] -> output [B, T, H] (or [B, T, 2H]); states [B, H] per
//    layer and direction, index l * directions + d (d = 0 forward, 1 backward).
//    In / H are static (fugue::dyn: given at construction); a mismatched static size in
//    a composition (nn::Sequential) does not compile, a mismatched run-time shape throws.
//  * Training: operator()(tape, x[, init]) records ONE fused node per layer and direction
//    (its backward runs BPTT through the whole sequence) plus cheap view/concat nodes.
//    Returns the output, the final h / c of every layer-direction, and last_h: the top
//    layer's final h ([fw | bw] for bidirectional, MusicVAE's encoding).
//  * Inference: forward(x[, init, final]) without a tape. step(x_t, state) advances a
//    unidirectional stack by one time step: one GEMM (GEMV at B = 1) over [x, h] for all
//    four gates and one fused SIMD gate kernel per layer. Both are const: the layer holds only
//    weights, and everything a step writes (h, c and the step's scratch) lives in the caller's
//    State, so many threads may step one shared const LSTM, each with its own State. A State
//    from make_state(batch) (or sized by reserve(state, batch)) makes step allocation-free.
//  * Loaders (shape errors throw fugue::error naming the parameter):
//      LSTMCell::load_pytorch(weight_ih [4H, In], weight_hh [4H, H], bias_ih [4H], bias_hh [4H])
//        (torch gate order i, f, g, o; bias = bias_ih + bias_hh; forget_bias = 0)
//      LSTMCell::load_tensorflow(kernel [In+H, 4H], bias [4H], forget_bias = 1)
//      LSTM::load_pytorch(map | safetensors file | path, prefix): torch state-dict names
//        <prefix>weight_ih_l<k>[_reverse], ... (map: nn::NamedTensors). Every expected tensor
//        must be present and no extra layer or direction may be (a multi-layer import never
//        half-loads silently).
//  * Init: kernel U(-1/sqrt(H), 1/sqrt(H)) from the Philox stream given, bias 0.
#pragma once

#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/nn/detail/recurrent_common.hpp"
#include "fugue/nn/detail/recurrent_kernels.hpp"
#include "fugue/nn/detail/recurrent_ops.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

template <Scalar T, Backend B = cpu::native, index_t In = dyn, index_t H = dyn>
class LSTMCell {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  static constexpr index_t input_extent = In;
  static constexpr index_t hidden_extent = H;

  explicit LSTMCell(index_t input_size = In, index_t hidden_size = H, Philox init = {0x5eed, 0}, T forget_bias = T(1))
      : in_(input_size), h_(hidden_size), forget_bias_(forget_bias) {
    FUGUE_CHECK(In == dyn || in_ == In, "LSTMCell: input size ", in_, " but the type says ", In);
    FUGUE_CHECK(H == dyn || h_ == H, "LSTMCell: hidden size ", h_, " but the type says ", H);
    FUGUE_CHECK(in_ >= 0 && h_ > 0, "LSTMCell: sizes must be given (input ", in_, ", hidden ", h_, ")");
    const T k = T(1) / std::sqrt(T(h_));
    kernel.value = tensor_type::uniform({in_ + h_, 4 * h_}, init, -k, k);
    bias.value = tensor_type::zeros({4 * h_});
  }

  index_t input_size() const noexcept { return in_; }
  index_t hidden_size() const noexcept { return h_; }
  T forget_bias() const noexcept { return forget_bias_; }
  void set_forget_bias(T v) noexcept { forget_bias_ = v; }

  // --- training -------------------------------------------------------------------
  detail::lstm_seq_vars<T, B> operator()(ad::Tape<T, B>& tape, const var_type& x, const var_type* h0 = nullptr,
                                         const var_type* c0 = nullptr, bool reverse = false) {
    check_input(x.shape());
    return detail::lstm_seq_op(tape, x, tape.param(kernel), tape.param(bias), forget_bias_, h0, c0, reverse);
  }

  // --- inference ------------------------------------------------------------------
  struct Sequence {
    tensor_type y, h, c;  // [B, T, H], final [B, H] x 2
  };
  Sequence forward(const tensor_type& x, const tensor_type* h0 = nullptr, const tensor_type* c0 = nullptr,
                   bool reverse = false) const {
    check_input(x.shape());
    const tensor_type xc = x.contiguous();
    detail::seq_dims d{xc.dim(0), xc.dim(1), in_, h_};
    FUGUE_CHECK(d.steps >= 1, "LSTM over an empty sequence");
    const Shape st{d.batch, h_};
    tensor_type h0c, c0c;
    if (h0) detail::check_param_shape(h0c = h0->contiguous(), st, "initial h");
    if (c0) detail::check_param_shape(c0c = c0->contiguous(), st, "initial c");
    Sequence out{tensor_type::empty({d.batch, d.steps, h_}), tensor_type::empty(st), tensor_type::empty(st)};
    auto acts = tensor_type::empty({d.batch, d.steps, 4 * h_});
    auto cs = tensor_type::empty({d.batch, d.steps, h_});
    detail::lstm_forward_seq<B>(d, xc.data(), kernel.value.data(), bias.value.data(), forget_bias_,
                                h0 ? h0c.data() : nullptr, c0 ? c0c.data() : nullptr, reverse, out.y.data(),
                                acts.data(), cs.data());
    const index_t tl = reverse ? 0 : d.steps - 1;
    out.h.copy_from(out.y.select(1, tl));
    out.c.copy_from(cs.select(1, tl));
    return out;
  }

  // What one step writes besides h and c: [x, h] and the gate pre-activations, per caller.
  struct StepScratch {
    detail::step_buffer<T, B> xh, gates;
  };
  StepScratch make_scratch(index_t batch) const {
    StepScratch s;
    s.xh.rows(batch, in_ + h_);
    s.gates.rows(batch, 4 * h_);
    return s;
  }

  // One step in place: h, c [batch, H] are read and overwritten. x [batch, In].
  // Allocation-free once the scratch covers the batch (make_scratch(batch)).
  void step(const tensor_type& x, tensor_type& h, tensor_type& c, StepScratch& scratch) const {
    const index_t n = x.rank() == 2 ? x.dim(0) : 0;
    FUGUE_CHECK(x.rank() == 2 && x.dim(1) == in_ && x.is_contiguous(), "LSTMCell::step: x of shape ", x.shape().str(),
                ", expected contiguous [batch, ", in_, "]");
    FUGUE_CHECK(h.rank() == 2 && h.dim(0) == n && h.dim(1) == h_ && h.is_contiguous() && c.rank() == 2 &&
                    c.dim(0) == n && c.dim(1) == h_ && c.is_contiguous(),
                "LSTMCell::step: state h ", h.shape().str(), " / c ", c.shape().str(), " for batch ", n, ", hidden ",
                h_);
    step_raw(n, x.data(), h.data(), c.data(), scratch);
  }
  void step_raw(index_t n, const T* x, T* h, T* c, StepScratch& scratch) const {
    const index_t K = in_ + h_, G = 4 * h_;
    T* xh = scratch.xh.rows(n, K);
    T* a = scratch.gates.rows(n, G);
    for (index_t b = 0; b < n; ++b) {
      B::copy(xh + b * K, x + b * in_, sizeof(T) * std::size_t(in_));
      B::copy(xh + b * K + in_, h + b * h_, sizeof(T) * std::size_t(h_));
    }
    B::gemm(false, false, n, G, K, T(1), xh, K, kernel.value.data(), G, T(0), a, G);
    detail::lstm_gates_rows<B>(n, h_, a, G, static_cast<const T*>(nullptr), 0, bias.value.data(), forget_bias_, c, h_,
                               c, h_, h, h_);
  }

  // --- loading --------------------------------------------------------------------
  void load_tensorflow(const tensor_type& k, const tensor_type& b, T forget_bias = T(1),
                       std::string_view name = "lstm_cell") {
    detail::check_param_shape(k, {in_ + h_, 4 * h_}, std::string(name) + "/kernel");
    detail::check_param_shape(b, {4 * h_}, std::string(name) + "/bias");
    kernel.value.copy_from(k);
    bias.value.copy_from(b);
    forget_bias_ = forget_bias;
  }
  void load_pytorch(const tensor_type& w_ih, const tensor_type& w_hh, const tensor_type& b_ih, const tensor_type& b_hh,
                    std::string_view name = "lstm", std::string_view suffix = "") {
    const std::string n(name), s(suffix);
    detail::check_param_shape(w_ih, {4 * h_, in_}, n + ".weight_ih" + s);
    detail::check_param_shape(w_hh, {4 * h_, h_}, n + ".weight_hh" + s);
    detail::check_param_shape(b_ih, {4 * h_}, n + ".bias_ih" + s);
    detail::check_param_shape(b_hh, {4 * h_}, n + ".bias_hh" + s);
    const auto wi = w_ih.to_vector(), wh = w_hh.to_vector(), bi = b_ih.to_vector(), bh = b_hh.to_vector();
    std::vector<T> k(static_cast<std::size_t>((in_ + h_) * 4 * h_)), bb(static_cast<std::size_t>(4 * h_));
    const index_t G = 4 * h_;
    for (int tg = 0; tg < 4; ++tg) {
      const index_t og = torch_to_ours(tg);
      for (index_t u = 0; u < h_; ++u) {
        const index_t col = og * h_ + u, row = tg * h_ + u;
        for (index_t i = 0; i < in_; ++i) k[std::size_t(i * G + col)] = wi[std::size_t(row * in_ + i)];
        for (index_t j = 0; j < h_; ++j) k[std::size_t((in_ + j) * G + col)] = wh[std::size_t(row * h_ + j)];
        bb[std::size_t(col)] = bi[std::size_t(row)] + bh[std::size_t(row)];
      }
    }
    kernel.value = tensor_type::from(k, {in_ + h_, G});
    bias.value = tensor_type::from(bb, {G});
    forget_bias_ = T(0);
  }
  // A kernel-shaped tensor (a value or a gradient) in torch's layout: {weight_ih, weight_hh};
  // a bias-shaped one as torch's bias_ih (= bias_hh's gradient too).
  struct TorchLayout {
    tensor_type weight_ih, weight_hh, bias;
  };
  TorchLayout to_pytorch(const tensor_type& k, const tensor_type& b) const {
    detail::check_param_shape(k, {in_ + h_, 4 * h_}, "kernel");
    detail::check_param_shape(b, {4 * h_}, "bias");
    const auto kv = k.to_vector(), bv = b.to_vector();
    const index_t G = 4 * h_;
    std::vector<T> wi(static_cast<std::size_t>(G * in_)), wh(static_cast<std::size_t>(G * h_)),
        bb(static_cast<std::size_t>(G));
    for (int tg = 0; tg < 4; ++tg) {
      const index_t og = torch_to_ours(tg);
      for (index_t u = 0; u < h_; ++u) {
        const index_t col = og * h_ + u, row = tg * h_ + u;
        for (index_t i = 0; i < in_; ++i) wi[std::size_t(row * in_ + i)] = kv[std::size_t(i * G + col)];
        for (index_t j = 0; j < h_; ++j) wh[std::size_t(row * h_ + j)] = kv[std::size_t((in_ + j) * G + col)];
        bb[std::size_t(row)] = bv[std::size_t(col)];
      }
    }
    return {tensor_type::from(wi, {G, in_}), tensor_type::from(wh, {G, h_}), tensor_type::from(bb, {G})};
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(join_name(prefix, "kernel"), kernel);
    f(join_name(prefix, "bias"), bias);
  }

  ad::Parameter<T, B> kernel, bias;

 private:
  // torch blocks (i, f, g, o) -> ours (i, j, f, o)
  static constexpr index_t torch_to_ours(int tg) { return tg == 1 ? 2 : tg == 2 ? 1 : tg; }
  void check_input(const Shape& s) const {
    FUGUE_CHECK(s.rank() == 3 && s[2] == in_, "LSTM: input of shape ", s.str(), ", expected [B, T, ", in_, "]");
  }

  index_t in_, h_;
  T forget_bias_;
};

template <Scalar T, Backend B = cpu::native, index_t In = dyn, index_t H = dyn, int Layers = 1,
          bool Bidirectional = false>
class LSTM {
  static_assert(Layers >= 1, "an LSTM has at least one layer");

 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  using Cell = LSTMCell<T, B, dyn, H>;
  static constexpr int layers = Layers;
  static constexpr int directions = Bidirectional ? 2 : 1;
  static constexpr index_t input_extent = In;
  static constexpr index_t output_extent = H == dyn ? dyn : directions * H;
  template <index_t X>
  static constexpr index_t output_extent_for = output_extent;

  struct State {
    std::vector<tensor_type> h, c;                    // [B, H] each, index l * directions + d
    std::vector<typename Cell::StepScratch> scratch;  // step()'s per-layer workspace
  };
  struct StateVars {
    std::vector<var_type> h, c;
  };
  struct Output {
    var_type y;       // [B, T, directions * H]
    StateVars final;  // final h / c per layer-direction
    var_type last_h;  // top layer's final h, [fw | bw] when bidirectional
  };

  explicit LSTM(index_t input_size = In, index_t hidden_size = H, Philox init = {0x5eed, 0}, T forget_bias = T(1))
      : in_(input_size), h_(hidden_size) {
    FUGUE_CHECK(In == dyn || in_ == In, "LSTM: input size ", in_, " but the type says ", In);
    FUGUE_CHECK(H == dyn || h_ == H, "LSTM: hidden size ", h_, " but the type says ", H);
    cells_.reserve(Layers * directions);
    for (int l = 0; l < Layers; ++l)
      for (int d = 0; d < directions; ++d)
        cells_.emplace_back(l == 0 ? in_ : directions * h_, h_,
                            Philox{init.seed, init.stream + std::uint64_t(l * directions + d)}, forget_bias);
  }

  index_t input_size() const noexcept { return in_; }
  index_t hidden_size() const noexcept { return h_; }
  Cell& cell(int layer, int direction = 0) {
    return cells_.at(static_cast<std::size_t>(layer * directions + direction));
  }
  const Cell& cell(int layer, int direction = 0) const {
    return cells_.at(static_cast<std::size_t>(layer * directions + direction));
  }

  State make_state(index_t batch) const {
    State s;
    for (int i = 0; i < Layers * directions; ++i) {
      s.h.push_back(tensor_type::zeros({batch, h_}));
      s.c.push_back(tensor_type::zeros({batch, h_}));
    }
    if constexpr (!Bidirectional) reserve(s, batch);
    return s;
  }

  // --- training -------------------------------------------------------------------
  Output operator()(ad::Tape<T, B>& tape, const var_type& x, const StateVars* init = nullptr) {
    check_init(init ? init->h.size() : 0, init ? init->c.size() : 0, init != nullptr);
    Output out;
    var_type cur = x;
    for (int l = 0; l < Layers; ++l) {
      std::vector<var_type> ys;
      for (int d = 0; d < directions; ++d) {
        const std::size_t i = std::size_t(l * directions + d);
        auto r = cells_[i](tape, cur, init ? &init->h[i] : nullptr, init ? &init->c[i] : nullptr, d == 1);
        ys.push_back(r.y);
        out.final.h.push_back(r.h);
        out.final.c.push_back(r.c);
      }
      cur = directions == 2 ? detail::concat_last_op(tape, ys[0], ys[1]) : ys[0];
    }
    out.y = cur;
    const std::size_t top = std::size_t((Layers - 1) * directions);
    out.last_h =
        directions == 2 ? detail::concat_last_op(tape, out.final.h[top], out.final.h[top + 1]) : out.final.h[top];
    return out;
  }

  // --- inference ------------------------------------------------------------------
  tensor_type forward(const tensor_type& x, const State* init = nullptr, State* final = nullptr) const {
    check_init(init ? init->h.size() : 0, init ? init->c.size() : 0, init != nullptr);
    if (final) *final = State{};
    tensor_type cur = x;
    for (int l = 0; l < Layers; ++l) {
      typename Cell::Sequence r[2];
      for (int d = 0; d < directions; ++d) {
        const std::size_t i = std::size_t(l * directions + d);
        r[d] = cells_[i].forward(cur, init ? &init->h[i] : nullptr, init ? &init->c[i] : nullptr, d == 1);
        if (final) {
          final->h.push_back(r[d].h);
          final->c.push_back(r[d].c);
        }
      }
      cur = directions == 2 ? detail::concat_last(r[0].y, r[1].y) : r[0].y;
    }
    return cur;
  }

  // One time step of a unidirectional stack: x [batch, In]; state updated in place;
  // returns the top layer's new h (a handle to state.h.back()). No allocation once the
  // state's scratch covers the batch (make_state(batch), or reserve(state, batch)).
  const tensor_type& step(const tensor_type& x, State& state) const {
    static_assert(!Bidirectional, "step() runs forward in time: a bidirectional LSTM has no step");
    FUGUE_CHECK(state.h.size() == std::size_t(Layers) && state.c.size() == std::size_t(Layers),
                "LSTM::step: state has ", state.h.size(), " layers, expected ", Layers, " (use make_state)");
    state.scratch.resize(std::size_t(Layers));
    cells_[0].step(x, state.h[0], state.c[0], state.scratch[0]);
    for (int l = 1; l < Layers; ++l) {
      const auto i = std::size_t(l);
      cells_[i].step(state.h[i - 1], state.h[i], state.c[i], state.scratch[i]);
    }
    return state.h.back();
  }
  // Sizes state's step scratch for batch rows (a State filled by hand, e.g. from an encoder).
  void reserve(State& state, index_t batch) const {
    state.scratch.clear();
    for (const auto& c : cells_) state.scratch.push_back(c.make_scratch(batch));
  }

  // --- loading --------------------------------------------------------------------
  // torch.nn.LSTM state dict (names "<prefix>weight_ih_l0", ... "_reverse" for bw).
  void load_pytorch(const NamedTensors<T, B>& sd, std::string_view prefix = "") {
    const std::string p(prefix);
    FUGUE_CHECK(!sd.count(p + "weight_ih_l" + std::to_string(Layers)), "checkpoint has more than ", Layers,
                " LSTM layers under '", p, "' (found ", p, "weight_ih_l", Layers, ")");
    if (!Bidirectional)
      FUGUE_CHECK(!sd.count(p + "weight_ih_l0_reverse"), "checkpoint holds a bidirectional LSTM under '", p,
                  "' but this LSTM is unidirectional");
    for (int l = 0; l < Layers; ++l)
      for (int d = 0; d < directions; ++d) {
        const std::string s = "_l" + std::to_string(l) + (d ? "_reverse" : "");
        cell(l, d).load_pytorch(detail::require(sd, p + "weight_ih" + s), detail::require(sd, p + "weight_hh" + s),
                                detail::require(sd, p + "bias_ih" + s), detail::require(sd, p + "bias_hh" + s),
                                p.empty() ? "lstm" : p.substr(0, p.size() - (p.back() == '.' ? 1 : 0)), s);
      }
  }
  // The same from a safetensors file (safetensors.torch.save_file(module.state_dict(), path)).
  void load_pytorch(const io::SafetensorsFile& file, std::string_view prefix = "") {
    load_pytorch(named_tensors<T, B>(file, prefix), prefix);
  }
  void load_pytorch(const std::filesystem::path& path, std::string_view prefix = "") {
    load_pytorch(io::SafetensorsFile::open(path), prefix);
  }
  void load_tensorflow(int layer, int direction, const tensor_type& kernel, const tensor_type& bias,
                       T forget_bias = T(1)) {
    cell(layer, direction)
        .load_tensorflow(kernel, bias, forget_bias,
                         "lstm layer " + std::to_string(layer) + (direction ? " bw" : " fw"));
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    for (int l = 0; l < Layers; ++l)
      for (int d = 0; d < directions; ++d) {
        std::string name = join_name(prefix, std::to_string(l));
        if (Bidirectional) name = join_name(name, d ? "bw" : "fw");
        cells_[std::size_t(l * directions + d)].visit_parameters(f, name);
      }
  }

 private:
  void check_init(std::size_t nh, std::size_t nc, bool given) const {
    if (!given) return;
    const std::size_t n = std::size_t(Layers * directions);
    FUGUE_CHECK(nh == n && nc == n, "LSTM: initial state has ", nh, " h and ", nc, " c tensors, expected ", n,
                " each (layers x directions)");
  }

  index_t in_, h_;
  std::vector<Cell> cells_;
};

// MusicVAE's encoder type: a stacked bidirectional LSTM.
template <Scalar T, Backend B, index_t In, index_t H, int Layers = 1>
using BiLSTM = LSTM<T, B, In, H, Layers, true>;

}  // namespace fugue::nn
