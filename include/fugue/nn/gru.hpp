// fugue/nn/gru.hpp — GRU cell and (stacked, optionally bidirectional) GRU layer.
//
// Contract
//  * Math (torch.nn.GRU = Keras GRU with reset_after=True, the TF2 default DDSP uses):
//      z = s(x Wz + bz_i + h Uz + bz_h),  r = s(x Wr + br_i + h Ur + br_h),
//      n = tanh(x Wn + bn_i + r * (h Un + bn_h)),  h' = z * h + (1 - z) * n
//    (torch writes h' = (1 - z) * n + z * h: the same). The reset gate multiplies the
//    hidden projection AFTER the matmul. Keras reset_after=False (TF1 / paper-era DDSP,
//    one bias vector) is a different function and is rejected by the loader.
//  * Parameters of a GRUCell (visit_parameters names, Keras layout verbatim):
//      "kernel"           [In, 3H]  column blocks [z | r | n]
//      "recurrent_kernel" [H, 3H]   same blocks
//      "bias"             [2, 3H]   row 0 input bias, row 1 recurrent bias
//  * GRU<T, B, In, H, Layers, Bidirectional> names "<l>.kernel", "<l>.recurrent_kernel",
//    "<l>.bias" (unidirectional) or "<l>.fw.*" / "<l>.bw.*" (bidirectional).
//    Layer l > 0 reads [fw | bw] of layer l - 1 when bidirectional.
//  * Shapes: input [B, T, In] -> output [B, T, H] (or 2H); states [B, H] per
//    layer-direction (index l * directions + d).
//  * Training: operator()(tape, x[, h0s]) records one fused BPTT node per layer and
//    direction. Inference: forward(x[, init, final]); step(x_t, state) for a
//    unidirectional stack: two GEMVs (x W, h U) + one fused gate kernel per layer. Both are
//    const: h and the step's scratch live in the caller's State (many threads may step one
//    shared const GRU, each with its own State); allocation-free once the State covers the batch
//    (make_state(batch), or reserve(state, batch)).
//  * Loaders (wrong shapes throw fugue::error naming the parameter):
//      GRUCell::load_pytorch(weight_ih [3H, In], weight_hh [3H, H], bias_ih [3H], bias_hh [3H])
//        (torch gate order r, z, n)
//      GRUCell::load_keras(kernel [In, 3H], recurrent_kernel [H, 3H], bias [2, 3H])
//      GRU::load_pytorch(map | safetensors file | path, prefix): state-dict names
//        <prefix>weight_ih_l<k>[_reverse], ... (map: nn::NamedTensors); missing tensors, extra
//        layers or an unexpected direction throw.
//  * Init: kernels U(-1/sqrt(H), 1/sqrt(H)) from the Philox stream given, bias 0.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fugue/autodiff/parameter.hpp"
#include "fugue/autodiff/tape.hpp"
#include "fugue/backend/cpu/threads.hpp"
#include "fugue/core/extents.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/nn/detail/recurrent_common.hpp"
#include "fugue/nn/detail/recurrent_kernels.hpp"
#include "fugue/nn/detail/recurrent_ops.hpp"
#include "fugue/nn/module.hpp"

namespace fugue::nn {

// The fused per-row GRU gate kernel (recurrent_kernels.hpp): gru_gates<B>(H, p, q, bias, hprev,
// hn_out, h) turns p = x W [3H] and q = h U [3H] (null: zeros) into h' [H] (gates in p, in place),
// as GRUCell::step does. Public for models that step a cell on their own buffers (ddsp); host
// backends only.
using detail::gru_gates;

template <Scalar T, Backend B = cpu::native, index_t In = dyn, index_t H = dyn>
class GRUCell {
 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  static constexpr index_t input_extent = In;
  static constexpr index_t hidden_extent = H;

  explicit GRUCell(index_t input_size = In, index_t hidden_size = H, Philox init = {0x5eed, 0})
      : in_(input_size), h_(hidden_size) {
    FUGUE_CHECK(In == dyn || in_ == In, "GRUCell: input size ", in_, " but the type says ", In);
    FUGUE_CHECK(H == dyn || h_ == H, "GRUCell: hidden size ", h_, " but the type says ", H);
    FUGUE_CHECK(in_ >= 0 && h_ > 0, "GRUCell: sizes must be given (input ", in_, ", hidden ", h_, ")");
    const T k = T(1) / std::sqrt(T(h_));
    kernel.value = tensor_type::uniform({in_, 3 * h_}, init, -k, k);
    recurrent_kernel.value = tensor_type::uniform({h_, 3 * h_}, Philox{init.seed, init.stream + 1000}, -k, k);
    bias.value = tensor_type::zeros({2, 3 * h_});
  }

  index_t input_size() const noexcept { return in_; }
  index_t hidden_size() const noexcept { return h_; }

  detail::gru_seq_vars<T, B> operator()(ad::Tape<T, B>& tape, const var_type& x, const var_type* h0 = nullptr,
                                        bool reverse = false) {
    check_input(x.shape());
    return detail::gru_seq_op(tape, x, tape.param(kernel), tape.param(recurrent_kernel), tape.param(bias), h0, reverse);
  }

  struct Sequence {
    tensor_type y, h;
  };
  Sequence forward(const tensor_type& x, const tensor_type* h0 = nullptr, bool reverse = false) const {
    check_input(x.shape());
    const tensor_type xc = x.contiguous();
    detail::seq_dims d{xc.dim(0), xc.dim(1), in_, h_};
    FUGUE_CHECK(d.steps >= 1, "GRU over an empty sequence");
    const Shape st{d.batch, h_};
    tensor_type h0c;
    if (h0) detail::check_param_shape(h0c = h0->contiguous(), st, "initial h");
    Sequence out{tensor_type::empty({d.batch, d.steps, h_}), tensor_type::empty(st)};
    auto acts = tensor_type::empty({d.batch, d.steps, 3 * h_});
    auto hn = tensor_type::empty({d.batch, d.steps, h_});
    auto q = tensor_type::empty({d.batch, 3 * h_});
    detail::gru_forward_seq<B>(d, xc.data(), kernel.value.data(), recurrent_kernel.value.data(), bias.value.data(),
                               h0 ? h0c.data() : nullptr, reverse, out.y.data(), acts.data(), hn.data(), q.data());
    out.h.copy_from(out.y.select(1, reverse ? 0 : d.steps - 1));
    return out;
  }

  // What one step writes besides h: the input and recurrent products, per caller.
  struct StepScratch {
    detail::step_buffer<T, B> p, q;
  };
  StepScratch make_scratch(index_t batch) const {
    StepScratch s;
    s.p.rows(batch, 3 * h_);
    s.q.rows(batch, 3 * h_);
    return s;
  }

  // One step in place: h [batch, H] read and overwritten; x [batch, In].
  void step(const tensor_type& x, tensor_type& h, StepScratch& scratch) const {
    const index_t n = x.rank() == 2 ? x.dim(0) : 0;
    FUGUE_CHECK(x.rank() == 2 && x.dim(1) == in_ && x.is_contiguous(), "GRUCell::step: x of shape ", x.shape().str(),
                ", expected contiguous [batch, ", in_, "]");
    FUGUE_CHECK(h.rank() == 2 && h.dim(0) == n && h.dim(1) == h_ && h.is_contiguous(), "GRUCell::step: state h ",
                h.shape().str(), " for batch ", n, ", hidden ", h_);
    step_raw(n, x.data(), h.data(), scratch);
  }
  void step_raw(index_t n, const T* x, T* h, StepScratch& scratch) const {
    const index_t G = 3 * h_;
    T* p = scratch.p.rows(n, G);
    T* q = scratch.q.rows(n, G);
    if constexpr (B::host_accessible)
      if (n == 1 && cpu::num_threads() > 1 && in_ > 0) return step_one_parallel(x, h, p, q);
    B::gemm(false, false, n, G, in_, T(1), x, in_, kernel.value.data(), G, T(0), p, G);
    B::gemm(false, false, n, G, h_, T(1), h, h_, recurrent_kernel.value.data(), G, T(0), q, G);
    detail::gru_gates_rows<B>(n, h_, p, G, q, G, bias.value.data(), h, h_, h, h_);
  }

  void load_keras(const tensor_type& k, const tensor_type& rk, const tensor_type& b,
                  std::string_view name = "gru_cell") {
    const std::string n(name);
    FUGUE_CHECK(!(b.defined() && b.rank() == 1), "parameter '", n, "/bias' has shape ", b.shape().str(),
                ": a single bias vector means Keras reset_after=False, ",
                "which fugue's GRU does not implement (it follows reset_after=True / PyTorch)");
    detail::check_param_shape(k, {in_, 3 * h_}, n + "/kernel");
    detail::check_param_shape(rk, {h_, 3 * h_}, n + "/recurrent_kernel");
    detail::check_param_shape(b, {2, 3 * h_}, n + "/bias");
    kernel.value.copy_from(k);
    recurrent_kernel.value.copy_from(rk);
    bias.value.copy_from(b);
  }
  void load_pytorch(const tensor_type& w_ih, const tensor_type& w_hh, const tensor_type& b_ih, const tensor_type& b_hh,
                    std::string_view name = "gru", std::string_view suffix = "") {
    const std::string n(name), s(suffix);
    const index_t G = 3 * h_;
    detail::check_param_shape(w_ih, {G, in_}, n + ".weight_ih" + s);
    detail::check_param_shape(w_hh, {G, h_}, n + ".weight_hh" + s);
    detail::check_param_shape(b_ih, {G}, n + ".bias_ih" + s);
    detail::check_param_shape(b_hh, {G}, n + ".bias_hh" + s);
    const auto wi = w_ih.to_vector(), wh = w_hh.to_vector(), bi = b_ih.to_vector(), bh = b_hh.to_vector();
    std::vector<T> k(static_cast<std::size_t>(in_ * G)), rk(static_cast<std::size_t>(h_ * G)),
        bb(static_cast<std::size_t>(2 * G));
    for (int tg = 0; tg < 3; ++tg) {
      const index_t og = torch_to_ours(tg);
      for (index_t u = 0; u < h_; ++u) {
        const index_t col = og * h_ + u, row = tg * h_ + u;
        for (index_t i = 0; i < in_; ++i) k[std::size_t(i * G + col)] = wi[std::size_t(row * in_ + i)];
        for (index_t j = 0; j < h_; ++j) rk[std::size_t(j * G + col)] = wh[std::size_t(row * h_ + j)];
        bb[std::size_t(col)] = bi[std::size_t(row)];
        bb[std::size_t(G + col)] = bh[std::size_t(row)];
      }
    }
    kernel.value = tensor_type::from(k, {in_, G});
    recurrent_kernel.value = tensor_type::from(rk, {h_, G});
    bias.value = tensor_type::from(bb, {2, G});
  }
  struct TorchLayout {
    tensor_type weight_ih, weight_hh, bias_ih, bias_hh;
  };
  // Kernel / recurrent kernel / bias shaped tensors (values or gradients) in torch's layout.
  TorchLayout to_pytorch(const tensor_type& k, const tensor_type& rk, const tensor_type& b) const {
    const index_t G = 3 * h_;
    detail::check_param_shape(k, {in_, G}, "kernel");
    detail::check_param_shape(rk, {h_, G}, "recurrent_kernel");
    detail::check_param_shape(b, {2, G}, "bias");
    const auto kv = k.to_vector(), rv = rk.to_vector(), bv = b.to_vector();
    std::vector<T> wi(static_cast<std::size_t>(G * in_)), wh(static_cast<std::size_t>(G * h_)),
        bi(static_cast<std::size_t>(G)), bh(static_cast<std::size_t>(G));
    for (int tg = 0; tg < 3; ++tg) {
      const index_t og = torch_to_ours(tg);
      for (index_t u = 0; u < h_; ++u) {
        const index_t col = og * h_ + u, row = tg * h_ + u;
        for (index_t i = 0; i < in_; ++i) wi[std::size_t(row * in_ + i)] = kv[std::size_t(i * G + col)];
        for (index_t j = 0; j < h_; ++j) wh[std::size_t(row * h_ + j)] = rv[std::size_t(j * G + col)];
        bi[std::size_t(row)] = bv[std::size_t(col)];
        bh[std::size_t(row)] = bv[std::size_t(G + col)];
      }
    }
    return {tensor_type::from(wi, {G, in_}), tensor_type::from(wh, {G, h_}), tensor_type::from(bi, {G}),
            tensor_type::from(bh, {G})};
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    f(join_name(prefix, "kernel"), kernel);
    f(join_name(prefix, "recurrent_kernel"), recurrent_kernel);
    f(join_name(prefix, "bias"), bias);
  }

  ad::Parameter<T, B> kernel, recurrent_kernel, bias;

 private:
  // torch blocks (r, z, n) -> ours (z, r, n)
  static constexpr index_t torch_to_ours(int tg) { return tg == 0 ? 1 : tg == 1 ? 0 : 2; }
  void check_input(const Shape& s) const {
    FUGUE_CHECK(s.rank() == 3 && s[2] == in_, "GRU: input of shape ", s.str(), ", expected [B, T, ", in_, "]");
  }

  // Batch-1 step on several threads in one parallel region: x W and h U are independent
  // GEMVs, so half the threads compute column bands of one and half of the other (with two
  // threads: one whole GEMV each, every weight row streamed contiguously), then the gates
  // run on the calling thread. Each column's sum is the one the serial GEMV computes.
  void step_one_parallel(const T* x, T* h, T* p, T* q) const {
    const index_t G = 3 * h_;
    constexpr index_t chunk = 64;  // band edges on whole SIMD chunks
    const index_t chunks = (G + chunk - 1) / chunk;
    const int per = int(std::min<index_t>(std::max(1, cpu::num_threads() / 2), chunks));
    const T* w = kernel.value.data();
    const T* u = recurrent_kernel.value.data();
    cpu::parallel_for(2 * per, [&](int t) {
      const int band = t % per;
      const index_t c0 = chunks * band / per * chunk;
      const index_t c1 = band + 1 == per ? G : chunks * (band + 1) / per * chunk;
      if (t < per)
        B::gemv(true, in_, c1 - c0, T(1), w + c0, G, x, T(0), p + c0);
      else
        B::gemv(true, h_, c1 - c0, T(1), u + c0, G, h, T(0), q + c0);
    });
    detail::gru_gates<B>(h_, p, q, bias.value.data(), h, static_cast<T*>(nullptr), h);
  }

  index_t in_, h_;
};

template <Scalar T, Backend B = cpu::native, index_t In = dyn, index_t H = dyn, int Layers = 1,
          bool Bidirectional = false>
class GRU {
  static_assert(Layers >= 1, "a GRU has at least one layer");

 public:
  using tensor_type = Tensor<T, B>;
  using var_type = ad::Var<T, B>;
  using Cell = GRUCell<T, B, dyn, H>;
  static constexpr int layers = Layers;
  static constexpr int directions = Bidirectional ? 2 : 1;
  static constexpr index_t input_extent = In;
  static constexpr index_t output_extent = H == dyn ? dyn : directions * H;
  template <index_t X>
  static constexpr index_t output_extent_for = output_extent;

  struct State {
    std::vector<tensor_type> h;                       // [B, H] each, index l * directions + d
    std::vector<typename Cell::StepScratch> scratch;  // step()'s per-layer workspace
  };
  struct Output {
    var_type y;                   // [B, T, directions * H]
    std::vector<var_type> final;  // final h per layer-direction
    var_type last_h;              // top layer's final h ([fw | bw] when bidirectional)
  };

  explicit GRU(index_t input_size = In, index_t hidden_size = H, Philox init = {0x5eed, 0})
      : in_(input_size), h_(hidden_size) {
    FUGUE_CHECK(In == dyn || in_ == In, "GRU: input size ", in_, " but the type says ", In);
    FUGUE_CHECK(H == dyn || h_ == H, "GRU: hidden size ", h_, " but the type says ", H);
    cells_.reserve(Layers * directions);
    for (int l = 0; l < Layers; ++l)
      for (int d = 0; d < directions; ++d)
        cells_.emplace_back(l == 0 ? in_ : directions * h_, h_,
                            Philox{init.seed, init.stream + std::uint64_t(l * directions + d)});
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
    for (int i = 0; i < Layers * directions; ++i) s.h.push_back(tensor_type::zeros({batch, h_}));
    if constexpr (!Bidirectional) reserve(s, batch);
    return s;
  }

  Output operator()(ad::Tape<T, B>& tape, const var_type& x, const std::vector<var_type>* h0 = nullptr) {
    FUGUE_CHECK(!h0 || h0->size() == std::size_t(Layers * directions), "GRU: ", h0 ? h0->size() : 0,
                " initial states, expected ", Layers * directions);
    Output out;
    var_type cur = x;
    for (int l = 0; l < Layers; ++l) {
      std::vector<var_type> ys;
      for (int d = 0; d < directions; ++d) {
        const std::size_t i = std::size_t(l * directions + d);
        auto r = cells_[i](tape, cur, h0 ? &(*h0)[i] : nullptr, d == 1);
        ys.push_back(r.y);
        out.final.push_back(r.h);
      }
      cur = directions == 2 ? detail::concat_last_op(tape, ys[0], ys[1]) : ys[0];
    }
    out.y = cur;
    const std::size_t top = std::size_t((Layers - 1) * directions);
    out.last_h = directions == 2 ? detail::concat_last_op(tape, out.final[top], out.final[top + 1]) : out.final[top];
    return out;
  }

  tensor_type forward(const tensor_type& x, const State* init = nullptr, State* final = nullptr) const {
    FUGUE_CHECK(!init || init->h.size() == std::size_t(Layers * directions), "GRU: initial state has ",
                init ? init->h.size() : 0, " tensors, expected ", Layers * directions);
    if (final) *final = State{};
    tensor_type cur = x;
    for (int l = 0; l < Layers; ++l) {
      typename Cell::Sequence r[2];
      for (int d = 0; d < directions; ++d) {
        const std::size_t i = std::size_t(l * directions + d);
        r[d] = cells_[i].forward(cur, init ? &init->h[i] : nullptr, d == 1);
        if (final) final->h.push_back(r[d].h);
      }
      if (directions == 2) {
        const index_t rows = r[0].y.numel() / h_;
        Shape s = r[0].y.shape();
        s[-1] = 2 * h_;
        cur = tensor_type::empty(s);
        for (index_t k = 0; k < rows; ++k) {
          B::copy(cur.data() + k * 2 * h_, r[0].y.data() + k * h_, sizeof(T) * std::size_t(h_));
          B::copy(cur.data() + k * 2 * h_ + h_, r[1].y.data() + k * h_, sizeof(T) * std::size_t(h_));
        }
      } else {
        cur = r[0].y;
      }
    }
    return cur;
  }

  // One time step of a unidirectional stack (x [batch, In]); state updated in place;
  // returns the top layer's h. No allocation once the state's scratch covers the batch.
  const tensor_type& step(const tensor_type& x, State& state) const {
    static_assert(!Bidirectional, "step() runs forward in time: a bidirectional GRU has no step");
    FUGUE_CHECK(state.h.size() == std::size_t(Layers), "GRU::step: state has ", state.h.size(), " layers, expected ",
                Layers, " (use make_state)");
    state.scratch.resize(std::size_t(Layers));
    cells_[0].step(x, state.h[0], state.scratch[0]);
    for (int l = 1; l < Layers; ++l) {
      const auto i = std::size_t(l);
      cells_[i].step(state.h[i - 1], state.h[i], state.scratch[i]);
    }
    return state.h.back();
  }
  // Sizes state's step scratch for batch rows (a State filled by hand).
  void reserve(State& state, index_t batch) const {
    state.scratch.clear();
    for (const auto& c : cells_) state.scratch.push_back(c.make_scratch(batch));
  }

  void load_pytorch(const NamedTensors<T, B>& sd, std::string_view prefix = "") {
    const std::string p(prefix);
    FUGUE_CHECK(!sd.count(p + "weight_ih_l" + std::to_string(Layers)), "checkpoint has more than ", Layers,
                " GRU layers under '", p, "' (found ", p, "weight_ih_l", Layers, ")");
    if (!Bidirectional)
      FUGUE_CHECK(!sd.count(p + "weight_ih_l0_reverse"), "checkpoint holds a bidirectional GRU under '", p,
                  "' but this GRU is unidirectional");
    for (int l = 0; l < Layers; ++l)
      for (int d = 0; d < directions; ++d) {
        const std::string s = "_l" + std::to_string(l) + (d ? "_reverse" : "");
        cell(l, d).load_pytorch(detail::require(sd, p + "weight_ih" + s), detail::require(sd, p + "weight_hh" + s),
                                detail::require(sd, p + "bias_ih" + s), detail::require(sd, p + "bias_hh" + s),
                                p.empty() ? "gru" : p.substr(0, p.size() - (p.back() == '.' ? 1 : 0)), s);
      }
  }
  // The same from a safetensors file (safetensors.torch.save_file(module.state_dict(), path)).
  void load_pytorch(const io::SafetensorsFile& file, std::string_view prefix = "") {
    load_pytorch(named_tensors<T, B>(file, prefix), prefix);
  }
  void load_pytorch(const std::filesystem::path& path, std::string_view prefix = "") {
    load_pytorch(io::SafetensorsFile::open(path), prefix);
  }
  void load_keras(int layer, int direction, const tensor_type& k, const tensor_type& rk, const tensor_type& b) {
    cell(layer, direction).load_keras(k, rk, b, "gru layer " + std::to_string(layer) + (direction ? " bw" : " fw"));
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
  index_t in_, h_;
  std::vector<Cell> cells_;
};

}  // namespace fugue::nn
