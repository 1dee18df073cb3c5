// fugue/models/music_vae/decoders.hpp — MusicVAE's decoders (docs/music_vae.md, "Model facts").
//
// Every decoder type has the same interface, so the model and the trainer take any of them:
//  * num_outputs, output_depths: one categorical output per track (1; trio: 3).
//  * cond_extent: the width of what conditions it (z for a top-level decoder, the conductor's
//    embedding for a core decoder); control_extent: per-step controls (chords; 0 = none).
//  * logits(tape, cond [N, Cond], prevs, ctl) -> one Var [N * S, depth_k] per output, where
//    prevs[k] is the one-hot [N, S, depth_k] of the PREVIOUS token of output k at every step
//    (teacher forcing: the target shifted right by one, a zero row first) and ctl is
//    [N, S, Ctl] or nullptr. Rows are in (n, step) order.
//  * sample(cond, steps, start, temperature, rng) -> ids [N * steps] per output, drawn step by
//    step from softmax(logits / temperature) (temperature 0: argmax), each step's token fed
//    back as the next input; start[k][n] is the token before step 0 (-1: a zero row). The
//    uniform for (n, step, output k) is element (n * steps + step) * num_outputs + k of the
//    Philox stream given, so a sample is reproducible and independent of batch chunking.
//  * CategoricalLstmDecoder<T, B, Out, Cond, H, Layers, Ctl>: initial state tanh(Dense(cond))
//    (StateInit), an LSTM stack over [prev one-hot | cond | ctl], output Dense(H -> Out).
//    Parameters "init.*", "lstm.<l>.*", "output.*". Also scheduled_inputs(): the
//    ScheduledOutputTrainingHelper of TF as a no-grad pre-pass (see there).
//  * SplitMultiOutDecoder<Cores...>: independent core decoders for the tracks of a trio, all
//    fed the same cond; parameters "core.<k>.*".
//  * HierarchicalLstmDecoder<T, B, Z, Hc, Layers, U, Core>: a conductor LSTM stack (input: a
//    constant zero scalar, initial state tanh(Dense(z))) emits U embeddings; segment u of S
//    steps is decoded by Core conditioned on embedding u (z itself never reaches the core).
//    In training the segments run as one batch of N * U sequences (the global right shift
//    means segment u starts from the true last token of segment u - 1); in sampling each
//    segment starts from the last sampled token of the previous one. Parameters
//    "conductor.init.*", "conductor.lstm.*", "core.*".
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fugue/core/host_span.hpp"
#include "fugue/models/music_vae/concepts.hpp"
#include "fugue/models/music_vae/layers.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/nn/lstm.hpp"
#include "fugue/nn/module.hpp"
#include "fugue/ops/row_argmax.hpp"

namespace fugue::models::music_vae {

namespace detail {

// One token from logits row [depth] at temperature tau (0 = argmax) with uniform u in [0, 1).
template <class T>
int draw_token(const T* logits, index_t depth, double tau, double u) {
  const index_t best = ops::row_argmax(logits, depth);
  if (tau <= 0) return int(best);
  double total = 0;
  thread_local std::vector<double> p;
  p.resize(std::size_t(depth));
  for (index_t j = 0; j < depth; ++j)
    total += p[std::size_t(j)] = std::exp((double(logits[j]) - double(logits[best])) / tau);
  double acc = 0, target = u * total;
  for (index_t j = 0; j < depth; ++j) {
    acc += p[std::size_t(j)];
    if (target < acc) return int(j);
  }
  return int(best);
}

// The input row [prev one-hot | cond | ctl] of every sequence at one step.
template <class T, class B>
void fill_step_input(Tensor<T, B>& x, const std::vector<int>& prev, index_t depth, const Tensor<T, B>& cond,
                     const Tensor<T, B>* ctl, index_t step) {
  const index_t n = x.dim(0), w = x.dim(1), c = cond.dim(1);
  HostSpan<T, B> xs(x, false);
  const HostReadSpan<T, B> cs(cond);
  std::optional<HostReadSpan<T, B>> ks;
  if (ctl) ks.emplace(*ctl);
  T* d = xs.data();
  std::fill(d, d + n * w, T(0));
  for (index_t r = 0; r < n; ++r) {
    if (prev[std::size_t(r)] >= 0) d[r * w + prev[std::size_t(r)]] = T(1);
    std::copy(cs.data() + r * c, cs.data() + (r + 1) * c, d + r * w + depth);
    if (ctl) {
      const index_t k = ctl->dim(2), s = ctl->dim(1);
      std::copy(ks->data() + (r * s + step) * k, ks->data() + (r * s + step + 1) * k, d + r * w + depth + c);
    }
  }
  xs.commit();
}

}  // namespace detail

template <Scalar T, Backend B, index_t Out, index_t Cond, index_t H, int Layers, index_t Ctl = 0>
class CategoricalLstmDecoder {
 public:
  static constexpr std::size_t num_outputs = 1;
  static constexpr std::array<index_t, 1> output_depths{Out};
  static constexpr index_t cond_extent = Cond;
  static constexpr index_t control_extent = Ctl;
  static constexpr index_t hidden = H;
  using lstm_type = nn::LSTM<T, B, Out + Cond + Ctl, H, Layers>;
  using var_type = ad::Var<T, B>;
  using tensor_type = Tensor<T, B>;

  explicit CategoricalLstmDecoder(Philox init = {0xdec0, 0})
      : init_state(Philox{init.seed, init.stream}),
        lstm(Out + Cond + Ctl, H, Philox{init.seed, init.stream + 16}),
        output(H, Out, Philox{init.seed, init.stream + 64}) {}

  std::vector<var_type> logits(ad::Tape<T, B>& tape, const var_type& cond, const std::vector<tensor_type>& prevs,
                               const tensor_type* ctl = nullptr) {
    FUGUE_CHECK(prevs.size() == 1, "CategoricalLstmDecoder: one previous-token tensor expected, got ", prevs.size());
    const tensor_type& prev = prevs[0];
    FUGUE_CHECK(prev.rank() == 3 && prev.dim(2) == Out && prev.dim(0) == cond.dim(0), "decoder input ",
                prev.shape().str(), " does not fit [", cond.dim(0), ", steps, ", Out, "]");
    FUGUE_CHECK((Ctl == 0) == (ctl == nullptr), "decoder: controls ", ctl ? "given to" : "missing for",
                " a decoder with control width ", Ctl);
    const index_t n = prev.dim(0), steps = prev.dim(1);
    std::vector<var_type> parts{tape.constant(prev), broadcast_time(tape, cond, steps)};
    if (ctl) {
      FUGUE_CHECK(ctl->rank() == 3 && ctl->dim(0) == n && ctl->dim(1) == steps && ctl->dim(2) == Ctl,
                  "decoder controls ", ctl->shape().str(), ", expected [", n, ", ", steps, ", ", Ctl, "]");
      parts.push_back(tape.constant(*ctl));
    }
    auto x = ad::concat(parts, -1);
    auto st = init_state.template vars<typename lstm_type::StateVars>(tape, cond);
    auto y = lstm(tape, x, &st).y;
    return {ad::reshape(output(tape, y), {n * steps, Out})};
  }

  std::vector<std::vector<int>> sample(const tensor_type& cond, index_t steps,
                                       const std::vector<std::vector<int>>& start, double temperature, Philox rng,
                                       const tensor_type* ctl = nullptr, std::size_t output_index = 0,
                                       std::size_t num_outputs_total = 1) const {
    const index_t n = cond.dim(0);
    FUGUE_CHECK(cond.rank() == 2 && cond.dim(1) == Cond, "decoder sample: cond ", cond.shape().str(), ", expected [N, ",
                Cond, "]");
    typename lstm_type::State st;
    init_state.state(cond, st);
    lstm.reserve(st, n);
    std::vector<int> prev = start.empty() ? std::vector<int>(std::size_t(n), -1) : start[0];
    FUGUE_CHECK(index_t(prev.size()) == n, "decoder sample: ", prev.size(), " start tokens for ", n, " sequences");
    auto x = tensor_type::empty({n, Out + Cond + Ctl});
    std::vector<int> ids(std::size_t(n * steps));
    for (index_t t = 0; t < steps; ++t) {
      detail::fill_step_input(x, prev, Out, cond, ctl, t);
      const tensor_type& h = lstm.step(x, st);
      const tensor_type lg = output.forward(h);
      const HostReadSpan<T, B> lgs(lg);
      for (index_t r = 0; r < n; ++r) {
        const std::uint64_t i = std::uint64_t((r * steps + t)) * num_outputs_total + output_index;
        const int tok = detail::draw_token(lgs.data() + r * Out, Out, temperature, rng.uniform<double>(i));
        ids[std::size_t(r * steps + t)] = prev[std::size_t(r)] = tok;
      }
    }
    return {ids};
  }

  // Scheduled sampling (TF's ScheduledOutputTrainingHelper): with probability p, independently
  // per sequence and step, the input at step t + 1 is the model's own sample (temperature 1)
  // from its output at step t instead of the true token. Those samples carry no gradient, so
  // the decoder inputs can be fixed first by this no-grad step-by-step pass (same weights,
  // same cond, so the same states as the taped pass would compute) and the taped pass then runs
  // over them as one fused sequence. Returns the (possibly) modified one-hot inputs and the
  // number of substituted inputs. Draws: Bernoulli from element 2 i, token from 2 i + 1 of rng,
  // i = n * steps + t.
  std::pair<tensor_type, index_t> scheduled_inputs(const tensor_type& cond, const tensor_type& prev, double p,
                                                   Philox rng, const tensor_type* ctl = nullptr) const {
    const index_t n = prev.dim(0), steps = prev.dim(1);
    if (p <= 0) return {prev, 0};
    std::vector<char> pick(std::size_t(n * steps), 0);
    index_t last = -1, count = 0;
    for (index_t r = 0; r < n; ++r)
      for (index_t t = 1; t < steps; ++t)
        if (rng.uniform<double>(2 * std::uint64_t(r * steps + t)) < p) {
          pick[std::size_t(r * steps + t)] = 1;
          last = std::max(last, t);
          ++count;
        }
    if (count == 0) return {prev, 0};
    tensor_type mod = prev.clone();
    HostSpan<T, B> ms(mod);  // host-side edits; committed before mod is returned
    typename lstm_type::State st;
    init_state.state(cond, st);
    lstm.reserve(st, n);
    auto x = tensor_type::empty({n, Out + Cond + Ctl});
    std::vector<int> tok(static_cast<std::size_t>(n), -1);
    for (index_t t = 0; t < last; ++t) {
      for (index_t r = 0; r < n; ++r) {
        const T* row = ms.data() + (r * steps + t) * Out;
        tok[std::size_t(r)] = -1;
        for (index_t j = 0; j < Out; ++j)
          if (row[j] != T(0)) tok[std::size_t(r)] = int(j);
      }
      detail::fill_step_input(x, tok, Out, cond, ctl, t);
      const tensor_type& h = lstm.step(x, st);
      bool any = false;
      for (index_t r = 0; r < n; ++r) any = any || pick[std::size_t(r * steps + t + 1)];
      if (!any) continue;
      const tensor_type lg = output.forward(h);
      const HostReadSpan<T, B> lgs(lg);
      for (index_t r = 0; r < n; ++r) {
        if (!pick[std::size_t(r * steps + t + 1)]) continue;
        const int s = detail::draw_token(lgs.data() + r * Out, Out, 1.0,
                                         rng.uniform<double>(2 * std::uint64_t(r * steps + t + 1) + 1));
        T* dst = ms.data() + (r * steps + t + 1) * Out;
        std::fill(dst, dst + Out, T(0));
        dst[s] = T(1);
      }
    }
    ms.commit();
    return {mod, count};
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    init_state.visit_parameters(f, nn::join_name(prefix, "init"));
    lstm.visit_parameters(f, nn::join_name(prefix, "lstm"));
    output.visit_parameters(f, nn::join_name(prefix, "output"));
  }

  StateInit<T, B, Cond, H, Layers> init_state;
  lstm_type lstm;
  nn::Linear<T, B, H, Out> output;
};

template <class... Cores>
class SplitMultiOutDecoder {
  static_assert(sizeof...(Cores) >= 1, "a split decoder has at least one core");
  using First = std::tuple_element_t<0, std::tuple<Cores...>>;

 public:
  static constexpr std::size_t num_outputs = sizeof...(Cores);
  static constexpr std::array<index_t, num_outputs> output_depths{Cores::output_depths[0]...};
  static constexpr index_t cond_extent = First::cond_extent;
  static constexpr index_t control_extent = 0;
  static_assert(((Cores::cond_extent == cond_extent) && ...), "every core decoder takes the same conditioning width");
  static_assert(((Cores::num_outputs == 1) && ...), "split cores have one output each");
  using var_type = typename First::var_type;
  using tensor_type = typename First::tensor_type;

  explicit SplitMultiOutDecoder(Philox init = {0x5b17, 0})
      : cores_(make_cores(init, std::index_sequence_for<Cores...>{})) {}

  template <class Tape>
  std::vector<var_type> logits(Tape& tape, const var_type& cond, const std::vector<tensor_type>& prevs,
                               const tensor_type* ctl = nullptr) {
    FUGUE_CHECK(prevs.size() == num_outputs, "SplitMultiOutDecoder: ", prevs.size(), " previous-token tensors for ",
                num_outputs, " outputs");
    FUGUE_CHECK(ctl == nullptr, "SplitMultiOutDecoder takes no controls");
    std::vector<var_type> out;
    for_each_core([&](auto& core, std::size_t k) { out.push_back(core.logits(tape, cond, {prevs[k]})[0]); });
    return out;
  }

  std::vector<std::vector<int>> sample(const tensor_type& cond, index_t steps,
                                       const std::vector<std::vector<int>>& start, double temperature, Philox rng,
                                       const tensor_type* ctl = nullptr) const {
    FUGUE_CHECK(ctl == nullptr, "SplitMultiOutDecoder takes no controls");
    std::vector<std::vector<int>> out;
    for_each_core([&](const auto& core, std::size_t k) {
      std::vector<std::vector<int>> s;
      if (!start.empty()) s.push_back(start[k]);
      out.push_back(core.sample(cond, steps, s, temperature, rng, nullptr, k, num_outputs)[0]);
    });
    return out;
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    for_each_core([&](auto& core, std::size_t k) {
      core.visit_parameters(f, nn::join_name(prefix, "core." + std::to_string(k)));
    });
  }

  template <std::size_t K>
  auto& core() {
    return std::get<K>(cores_);
  }

 private:
  template <std::size_t... I>
  static std::tuple<Cores...> make_cores(Philox init, std::index_sequence<I...>) {
    return std::tuple<Cores...>{Cores(Philox{init.seed, init.stream + 1024 * I})...};
  }
  template <class F>
  void for_each_core(F&& f) {
    std::apply(
        [&](auto&... c) {
          std::size_t k = 0;
          (f(c, k++), ...);
        },
        cores_);
  }
  template <class F>
  void for_each_core(F&& f) const {
    std::apply(
        [&](const auto&... c) {
          std::size_t k = 0;
          (f(c, k++), ...);
        },
        cores_);
  }
  std::tuple<Cores...> cores_;
};

// Core is a LatentDecoder conditioned on the conductor's output (width Hc), without controls.
template <Scalar T, Backend B, index_t Z, index_t Hc, int Layers, index_t U, class Core>
  requires LatentDecoder<Core, T, B, Hc>
class HierarchicalLstmDecoder {
  static_assert(Core::control_extent == 0, "controls are not supported below a conductor");

 public:
  static constexpr std::size_t num_outputs = Core::num_outputs;
  static constexpr std::array<index_t, num_outputs> output_depths = Core::output_depths;
  static constexpr index_t cond_extent = Z;
  static constexpr index_t control_extent = 0;
  static constexpr index_t segments = U;
  using conductor_type = nn::LSTM<T, B, 1, Hc, Layers>;
  using var_type = ad::Var<T, B>;
  using tensor_type = Tensor<T, B>;

  explicit HierarchicalLstmDecoder(Philox init = {0xc0d0, 0})
      : conductor_init(Philox{init.seed, init.stream}),
        conductor(1, Hc, Philox{init.seed, init.stream + 16}),
        core(Philox{init.seed, init.stream + 4096}) {}

  std::vector<var_type> logits(ad::Tape<T, B>& tape, const var_type& z, const std::vector<tensor_type>& prevs,
                               const tensor_type* ctl = nullptr) {
    FUGUE_CHECK(ctl == nullptr, "HierarchicalLstmDecoder takes no controls");
    FUGUE_CHECK(prevs.size() == num_outputs, "HierarchicalLstmDecoder: ", prevs.size(), " input tensors for ",
                num_outputs, " outputs");
    const index_t n = z.dim(0), steps = prevs[0].dim(1);
    FUGUE_CHECK(steps % U == 0, "HierarchicalLstmDecoder: ", steps, " steps do not split into ", U, " segments");
    const index_t seg = steps / U;
    auto st = conductor_init.template vars<typename conductor_type::StateVars>(tape, z);
    auto emb = conductor(tape, tape.constant(tensor_type::zeros({n, U, 1})), &st).y;  // [N, U, Hc]
    auto cond = ad::reshape(emb, {n * U, Hc});
    std::vector<tensor_type> seg_prevs;
    for (const auto& p : prevs) seg_prevs.push_back(p.contiguous().reshape({n * U, seg, p.dim(2)}));
    return core.logits(tape, cond, seg_prevs);
  }

  std::vector<std::vector<int>> sample(const tensor_type& z, index_t steps, const std::vector<std::vector<int>>& start,
                                       double temperature, Philox rng, const tensor_type* ctl = nullptr) const {
    FUGUE_CHECK(ctl == nullptr, "HierarchicalLstmDecoder takes no controls");
    FUGUE_CHECK(steps % U == 0, "HierarchicalLstmDecoder: ", steps, " steps do not split into ", U, " segments");
    const index_t n = z.dim(0), seg = steps / U;
    typename conductor_type::State st;
    conductor_init.state(z, st);
    conductor.reserve(st, n);
    const tensor_type zero = tensor_type::zeros({n, 1});
    std::vector<std::vector<int>> out(num_outputs, std::vector<int>(std::size_t(n * steps)));
    std::vector<std::vector<int>> prev = start;
    if (prev.empty()) prev.assign(num_outputs, std::vector<int>(std::size_t(n), -1));
    for (index_t u = 0; u < U; ++u) {
      const tensor_type emb = conductor.step(zero, st).clone();
      // Segment u draws from its own part of the stream.
      auto part = core.sample(emb, seg, prev, temperature, Philox{rng.seed, rng.stream + std::uint64_t(u) + 1});
      for (std::size_t k = 0; k < num_outputs; ++k)
        for (index_t r = 0; r < n; ++r) {
          for (index_t t = 0; t < seg; ++t)
            out[k][std::size_t(r * steps + u * seg + t)] = part[k][std::size_t(r * seg + t)];
          prev[k][std::size_t(r)] = part[k][std::size_t(r * seg + seg - 1)];
        }
    }
    return out;
  }

  template <class F>
  void visit_parameters(F&& f, std::string_view prefix = {}) {
    conductor_init.visit_parameters(f, nn::join_name(prefix, "conductor.init"));
    conductor.visit_parameters(f, nn::join_name(prefix, "conductor.lstm"));
    core.visit_parameters(f, nn::join_name(prefix, "core"));
  }

  StateInit<T, B, Z, Hc, Layers> conductor_init;
  conductor_type conductor;
  Core core;
};

}  // namespace fugue::models::music_vae
