// fugue/autodiff/tape.hpp — reverse-mode automatic differentiation: Tape, Var, GradSink.
//
// Contract
//  * A Tape records a computation as a list of nodes numbered 0, 1, 2, ... in the
//    order they were created. A node holds its value, at most one backward
//    closure and the ids of its inputs. Inputs always have smaller ids than the
//    node that uses them, so backward() is ONE flat loop from the output's id
//    down to 0 — never recursive: a chain of a million ops cannot overflow the
//    stack (Stan Math's design, not a graph of shared pointers).
//  * Closures and input-id lists live in an arena (ad::detail::Arena) owned by the
//    tape: type-erased as a function pointer plus an arena-stored payload; their
//    destructors run at clear(). Nodes live in fixed pages that clear() keeps, so
//    recording the same step again after clear() allocates nothing new for the
//    tape itself (values and gradients are tensors, allocated by the backend).
//  * Var<T, B> is a cheap handle {Tape*, id}. It is valid until the tape's next
//    clear(). References returned by value()/shape() stay valid until clear()
//    (nodes never move).
//  * record(value, {inputs...}, bw[, "op_name"]) appends a node. When grad mode
//    is on and at least one input requires grad, the node requires grad and keeps
//    bw; otherwise it stores the value only (no closure is constructed in the
//    arena, no input ids are kept). bw is called as
//        bw(const Tensor<T, B>& grad_out, GradSink<T, B>& sink)
//    where grad_out is contiguous and has the node's shape; it must add the
//    gradient for input k with sink.accumulate(k, g) (shape == input k's shape)
//    or sink.accumulate_broadcast(k, g) (g has a broadcast shape; summed down),
//    guarded by sink.needs(k) to skip work. Closures may capture the tensors
//    they need (saved activations) and may read sink.input(k) / sink.output().
//    They must not write into grad_out, into inputs, or into tensors they pass to
//    accumulate: the tape may keep such a tensor as a borrowed gradient and
//    copies it only when a second contribution arrives (copy-on-write).
//  * param(p) makes a leaf for Parameter p; backward() ADDS that leaf's gradient
//    into p.grad (p.ensure_grad()), so two backward passes sum until
//    p.zero_grad(). Calling param(p) twice on one tape (an RNN loop) returns the
//    same Var. Update parameters only after backward(), and clear() the tape
//    before the next step: saved activations share storage with p.value.
//  * input(t, requires_grad) makes a leaf; with requires_grad its gradient is
//    kept after backward() (Var::grad()). Gradients of intermediate nodes are
//    freed as soon as the loop passes them unless set_retain_grads(true).
//  * backward(loss) seeds 1 (loss must have exactly one element);
//    backward(out, seed) seeds a tensor of out's shape. Each call starts from
//    zero node gradients, so it may be called several times on one graph (the
//    closures stay until clear()). Vars from another tape, bad seeds and
//    gradient shapes that do not match their input throw fugue::error, the latter
//    naming the op.
//  * Grad mode: NoGrad<T, B> guard(tape) switches recording of closures off for
//    its scope (inference with the training code path).
//  * Dropout and other random ops draw their streams from the tape:
//    tape.next_rng() gives Philox{seed, n++}; tape.training() says whether random
//    regularisers are active (set_training(false) for evaluation).
//  * Not thread-safe: one tape per thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "fugue/autodiff/arena.hpp"
#include "fugue/autodiff/parameter.hpp"
#include "fugue/core/rng.hpp"
#include "fugue/tensor.hpp"
#include "fugue/core/functors.hpp"

namespace fugue::ad {

template <Scalar T, Backend B = cpu::native>
class Tape;
template <Scalar T, Backend B = cpu::native>
class Var;
template <Scalar T, Backend B = cpu::native>
class GradSink;

// What a tape holds right now; for tests and for sizing.
struct TapeStats {
  std::size_t nodes = 0;           // nodes recorded since clear()
  std::size_t backward_nodes = 0;  // of which carry a backward closure
  std::size_t node_capacity = 0;   // node slots held in pages (kept by clear())
  std::size_t arena_used = 0;      // closure/input-list bytes since clear()
  std::size_t arena_capacity = 0;  // bytes held by the arena (kept by clear())
  std::size_t arena_chunks = 0;
};

namespace detail {

// dst += g, in place (dst contiguous and owned by the caller).
template <class T, class B>
void add_into(Tensor<T, B>& dst, const Tensor<T, B>& g) {
  FUGUE_CHECK(dst.shape() == g.shape(), "gradient of shape ", g.shape().str(), " added to one of shape ",
              dst.shape().str());
  Tensor<T, B> gc = g.contiguous();
  B::zip(dst.numel(), dst.data(), gc.data(), dst.data(), ::fugue::fn::add{});
}

template <class T, class B>
Tensor<T, B> add_new(const Tensor<T, B>& a, const Tensor<T, B>& b) {
  Tensor<T, B> ac = a.contiguous(), bc = b.contiguous();
  auto y = Tensor<T, B>::empty(a.shape());
  B::zip(y.numel(), ac.data(), bc.data(), y.data(), ::fugue::fn::add{});
  return y;
}

// Sum g (of a shape broadcast from `target`) down to `target`.
template <class T, class B>
Tensor<T, B> reduce_to_shape(const Tensor<T, B>& g, const Shape& target) {
  if (g.shape() == target) return g;
  const int r = g.rank(), lead = r - target.rank();
  FUGUE_CHECK(lead >= 0, "cannot reduce gradient of shape ", g.shape().str(), " to ", target.str());
  Tensor<T, B> cur = g.contiguous();
  // Collapse leading extra axes: view as [outer, numel(target-ish)] and column-sum.
  if (lead > 0) {
    index_t outer = 1;
    for (int i = 0; i < lead; ++i) outer *= g.dim(i);
    Shape rest = Shape::from_range(g.shape().begin() + lead, g.shape().end());
    auto y = Tensor<T, B>::empty(rest);
    B::col_sum(outer, rest.numel(), cur.data(), y.data());
    cur = y;
  }
  // Remaining axes where target has extent 1 and cur does not.
  for (int d = 0; d < target.rank(); ++d) {
    if (target[d] == 1 && cur.dim(d) != 1) {
      index_t outer = 1, inner = 1;
      for (int i = 0; i < d; ++i) outer *= cur.dim(i);
      for (int i = d + 1; i < cur.rank(); ++i) inner *= cur.dim(i);
      const index_t n = cur.dim(d);
      Shape s = cur.shape();
      s[d] = 1;
      auto y = Tensor<T, B>::empty(s);
      if (inner == 1)
        B::row_sum(outer, n, cur.data(), y.data());
      else
        for (index_t o = 0; o < outer; ++o) B::col_sum(n, inner, cur.data() + o * n * inner, y.data() + o * inner);
      cur = y;
    } else {
      FUGUE_CHECK(target[d] == cur.dim(d), "cannot reduce gradient of shape ", g.shape().str(), " to ", target.str());
    }
  }
  return cur;
}

template <Scalar T, Backend B>
struct Node {
  using BackwardFn = void (*)(void* payload, const Tensor<T, B>& grad_out, GradSink<T, B>& sink);
  using DestroyFn = void (*)(void* payload) noexcept;

  Tensor<T, B> value;
  Tensor<T, B> grad;
  Parameter<T, B>* param = nullptr;
  const std::uint32_t* inputs = nullptr;
  std::uint32_t n_inputs = 0;
  bool requires_grad = false;
  bool grad_owned = false;  // false: grad is borrowed from a closure; copy before writing
  bool retain = false;      // leaves keep their gradient after backward
  const char* op = nullptr;
  BackwardFn backward = nullptr;
  DestroyFn destroy = nullptr;
  void* payload = nullptr;
};

}  // namespace detail

// ---------------------------------------------------------------------------------
template <Scalar T, Backend B>
class Var {
 public:
  using tensor_type = Tensor<T, B>;
  Var() = default;

  bool defined() const noexcept { return tape_ != nullptr; }
  const Tensor<T, B>& value() const;
  const Shape& shape() const { return value().shape(); }
  index_t dim(int d) const { return value().dim(d); }
  int rank() const { return value().rank(); }
  index_t numel() const { return value().numel(); }
  bool requires_grad() const;
  // Gradient after backward(); zeros of this shape when none reached it (or it
  // was an intermediate node whose gradient was freed). Do not write into it.
  Tensor<T, B> grad() const;
  Tape<T, B>& tape() const {
    FUGUE_CHECK(tape_, "use of an undefined ad::Var");
    return *tape_;
  }
  std::uint32_t id() const noexcept { return id_; }

 private:
  friend class Tape<T, B>;
  Var(Tape<T, B>* t, std::uint32_t id) : tape_(t), id_(id) {}
  Tape<T, B>* tape_ = nullptr;
  std::uint32_t id_ = 0;
};

// ---------------------------------------------------------------------------------
// What a backward closure writes its input gradients through.
template <Scalar T, Backend B>
class GradSink {
 public:
  int size() const noexcept { return int(node_->n_inputs); }
  // Whether input k needs a gradient (skip the work when not).
  bool needs(int k) const { return in(k).requires_grad; }
  const Tensor<T, B>& input(int k) const { return in(k).value; }
  const Tensor<T, B>& output() const noexcept { return node_->value; }
  const char* op() const noexcept { return node_->op ? node_->op : "<unnamed op>"; }

  // Adds g (exactly input k's shape) into input k's gradient.
  void accumulate(int k, const Tensor<T, B>& g) {
    detail::Node<T, B>& n = in(k);
    if (!n.requires_grad) return;
    FUGUE_CHECK(g.shape() == n.value.shape(), "backward of '", op(), "' produced a gradient of shape ", g.shape().str(),
                " for input ", k, " of shape ", n.value.shape().str());
    if (!n.grad.defined()) {
      n.grad = g;
      n.grad_owned = false;
    } else if (!n.grad_owned || !n.grad.is_contiguous()) {
      n.grad = detail::add_new(n.grad, g);
      n.grad_owned = true;
    } else {
      detail::add_into(n.grad, g);
    }
  }
  // Adds g, whose shape input k's shape broadcasts to, summing the broadcast axes.
  void accumulate_broadcast(int k, const Tensor<T, B>& g) {
    if (!needs(k)) return;
    accumulate(k, detail::reduce_to_shape(g, in(k).value.shape()));
  }

 private:
  friend class Tape<T, B>;
  GradSink(Tape<T, B>* t, detail::Node<T, B>* n) : tape_(t), node_(n) {}
  detail::Node<T, B>& in(int k) const;
  Tape<T, B>* tape_;
  detail::Node<T, B>* node_;
};

// ---------------------------------------------------------------------------------
template <Scalar T, Backend B>
class Tape {
 public:
  using value_type = T;
  using backend = B;
  using tensor_type = Tensor<T, B>;
  using var_type = Var<T, B>;
  using Node = detail::Node<T, B>;

  Tape() = default;
  explicit Tape(std::uint64_t seed) : seed_(seed) {}
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;
  ~Tape() { clear(); }

  // --- leaves ---------------------------------------------------------------------
  Var<T, B> input(Tensor<T, B> v, bool requires_grad = false) {
    FUGUE_CHECK(v.defined(), "Tape::input of an undefined tensor");
    const std::uint32_t id = push_node(std::move(v));
    Node& n = node(id);
    n.requires_grad = requires_grad && grad_enabled_;
    n.retain = n.requires_grad;
    return Var<T, B>(this, id);
  }
  Var<T, B> constant(Tensor<T, B> v) { return input(std::move(v), false); }

  Var<T, B> param(Parameter<T, B>& p) {
    FUGUE_CHECK(p.value.defined(), "Tape::param of a parameter without a value");
    if (grad_enabled_)
      for (auto& [ptr, id] : param_ids_)
        if (ptr == &p) return Var<T, B>(this, id);
    const std::uint32_t id = push_node(p.value);
    Node& n = node(id);
    if (grad_enabled_) {
      n.requires_grad = true;
      n.retain = true;
      n.param = &p;
      param_ids_.emplace_back(&p, id);
    }
    return Var<T, B>(this, id);
  }

  // --- recording ------------------------------------------------------------------
  template <class Backward>
  Var<T, B> record(Tensor<T, B> value, std::initializer_list<Var<T, B>> inputs, Backward&& bw,
                   const char* op = nullptr) {
    return record(std::move(value), std::span<const Var<T, B>>(inputs.begin(), inputs.size()),
                  std::forward<Backward>(bw), op);
  }

  template <class Backward>
  Var<T, B> record(Tensor<T, B> value, std::span<const Var<T, B>> inputs, Backward&& bw, const char* op = nullptr) {
    using C = std::decay_t<Backward>;
    static_assert(std::is_invocable_v<C&, const Tensor<T, B>&, GradSink<T, B>&>,
                  "a backward closure is called as bw(const Tensor<T, B>& grad_out, GradSink<T, B>& sink)");
    FUGUE_CHECK(value.defined(), "Tape::record of an undefined tensor", op ? " by op " : "", op ? op : "");
    bool any = false;
    for (const Var<T, B>& v : inputs) {
      FUGUE_CHECK(v.tape_ == this, "op ", op ? op : "<unnamed>", ": input Var ",
                  v.tape_ ? "belongs to another tape" : "is undefined");
      any = any || node(v.id_).requires_grad;
    }
    if (!any || !grad_enabled_) return Var<T, B>(this, push_node(std::move(value)));

    FUGUE_CHECK(inputs.size() < (std::size_t{1} << 31), "too many inputs");
    auto* ids =
        static_cast<std::uint32_t*>(arena_.allocate(sizeof(std::uint32_t) * inputs.size(), alignof(std::uint32_t)));
    for (std::size_t i = 0; i < inputs.size(); ++i) ids[i] = inputs[i].id_;
    C* c = arena_.create<C>(std::forward<Backward>(bw));
    const std::uint32_t id = push_node(std::move(value));
    Node& n = node(id);
    n.requires_grad = true;
    n.inputs = ids;
    n.n_inputs = std::uint32_t(inputs.size());
    n.op = op;
    n.payload = c;
    n.backward = [](void* p, const Tensor<T, B>& g, GradSink<T, B>& s) { (*static_cast<C*>(p))(g, s); };
    if constexpr (!std::is_trivially_destructible_v<C>) n.destroy = [](void* p) noexcept { static_cast<C*>(p)->~C(); };
    ++backward_nodes_;
    return Var<T, B>(this, id);
  }

  // --- backward ---------------------------------------------------------------------
  void backward(const Var<T, B>& loss) {
    check_own(loss, "backward");
    FUGUE_CHECK(loss.numel() == 1, "backward(loss) needs a single-element loss, got shape ", loss.shape().str(),
                "; pass a seed tensor for other shapes");
    backward(loss, Tensor<T, B>::ones(loss.shape()));
  }

  void backward(const Var<T, B>& out, const Tensor<T, B>& seed) {
    check_own(out, "backward");
    Node& top = node(out.id_);
    FUGUE_CHECK(seed.defined() && seed.shape() == top.value.shape(), "backward seed of shape ", seed.shape().str(),
                " for an output of shape ", top.value.shape().str());
    FUGUE_CHECK(top.requires_grad, "backward from a value that does not require grad (no parameter or ",
                "grad-requiring input reaches it, or it was computed under NoGrad)");
    for (std::uint32_t i = 0; i < size_; ++i) {
      Node& n = node(i);
      n.grad = Tensor<T, B>();
      n.grad_owned = false;
    }
    top.grad = seed;
    for (std::uint32_t i = out.id_ + 1; i-- > 0;) {
      Node& n = node(i);
      if (!n.grad.defined()) continue;
      if (n.backward) {
        if (!n.grad.is_contiguous()) {
          n.grad = n.grad.contiguous();
          n.grad_owned = true;
        }
        GradSink<T, B> sink(this, &n);
        n.backward(n.payload, n.grad, sink);
        if (observer_) observer_->push_back(n.op);
      }
      if (n.param) detail::add_into(n.param->ensure_grad(), n.grad);
      if (!n.retain && !retain_grads_) {
        n.grad = Tensor<T, B>();
        n.grad_owned = false;
      }
    }
  }

  // --- modes ----------------------------------------------------------------------
  bool grad_enabled() const noexcept { return grad_enabled_; }
  void set_grad_enabled(bool on) noexcept { grad_enabled_ = on; }
  bool training() const noexcept { return training_; }
  void set_training(bool on) noexcept { training_ = on; }
  bool retain_grads() const noexcept { return retain_grads_; }
  void set_retain_grads(bool on) noexcept { retain_grads_ = on; }

  // A fresh Philox stream for a random op (dropout): streams never repeat on one tape.
  Philox next_rng() noexcept { return Philox{seed_, stream_++}; }
  void seed(std::uint64_t s) noexcept {
    seed_ = s;
    stream_ = 0;
  }

  // Called with each op name whose backward ran (gradcheck uses it to mark ops checked).
  void set_backward_observer(std::vector<const char*>* log) noexcept { observer_ = log; }

  // --- lifetime -------------------------------------------------------------------
  // Forget all nodes (running closure destructors, releasing values and grads);
  // keep node pages and arena chunks for the next step.
  void clear() noexcept {
    for (std::uint32_t i = size_; i-- > 0;) {
      Node& n = node(i);
      if (n.destroy) n.destroy(n.payload);
      n = Node();
    }
    size_ = 0;
    backward_nodes_ = 0;
    param_ids_.clear();
    arena_.reset();
  }

  std::size_t size() const noexcept { return size_; }
  TapeStats stats() const noexcept {
    return TapeStats{size_,         backward_nodes_,   pages_.size() * page_size,
                     arena_.used(), arena_.capacity(), arena_.chunks()};
  }

  const Node& node(std::uint32_t id) const {
    FUGUE_CHECK(id < size_, "node id ", id, " out of range (tape has ", size_, " nodes)");
    return pages_[id >> page_bits][id & (page_size - 1)];
  }

 private:
  friend class Var<T, B>;
  friend class GradSink<T, B>;
  static constexpr unsigned page_bits = 10;
  static constexpr std::uint32_t page_size = 1u << page_bits;

  Node& node(std::uint32_t id) { return pages_[id >> page_bits][id & (page_size - 1)]; }

  std::uint32_t push_node(Tensor<T, B> value) {
    FUGUE_CHECK(size_ < 0xFFFFFFF0u, "tape is full");
    if (size_ == pages_.size() * page_size) pages_.push_back(std::make_unique<Node[]>(page_size));
    const std::uint32_t id = size_++;
    node(id).value = std::move(value);
    return id;
  }
  void check_own(const Var<T, B>& v, const char* what) const {
    FUGUE_CHECK(v.tape_ == this, what, ": Var ", v.tape_ ? "belongs to another tape" : "is undefined");
    FUGUE_CHECK(v.id_ < size_, what, ": Var refers to a node forgotten by clear()");
  }

  std::vector<std::unique_ptr<Node[]>> pages_;
  std::uint32_t size_ = 0;
  std::size_t backward_nodes_ = 0;
  detail::Arena arena_;
  std::vector<std::pair<Parameter<T, B>*, std::uint32_t>> param_ids_;
  bool grad_enabled_ = true;
  bool training_ = true;
  bool retain_grads_ = false;
  std::uint64_t seed_ = 0x5eed;
  std::uint64_t stream_ = 0;
  std::vector<const char*>* observer_ = nullptr;
};

// RAII: no closures are recorded on `tape` while it lives.
template <Scalar T, Backend B = cpu::native>
class NoGrad {
 public:
  explicit NoGrad(Tape<T, B>& tape) : tape_(tape), prev_(tape.grad_enabled()) { tape.set_grad_enabled(false); }
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;
  ~NoGrad() { tape_.set_grad_enabled(prev_); }

 private:
  Tape<T, B>& tape_;
  bool prev_;
};

// --- out-of-line members ------------------------------------------------------------
template <Scalar T, Backend B>
const Tensor<T, B>& Var<T, B>::value() const {
  FUGUE_CHECK(tape_, "use of an undefined ad::Var");
  FUGUE_CHECK(id_ < tape_->size_, "ad::Var refers to a node forgotten by Tape::clear()");
  return tape_->node(id_).value;
}
template <Scalar T, Backend B>
bool Var<T, B>::requires_grad() const {
  FUGUE_CHECK(tape_, "use of an undefined ad::Var");
  return tape_->node(id_).requires_grad;
}
template <Scalar T, Backend B>
Tensor<T, B> Var<T, B>::grad() const {
  const Tensor<T, B>& v = value();
  const auto& n = tape_->node(id_);
  if (n.grad.defined()) return n.grad;
  return Tensor<T, B>::zeros(v.shape());
}
template <Scalar T, Backend B>
detail::Node<T, B>& GradSink<T, B>::in(int k) const {
  FUGUE_CHECK(k >= 0 && std::uint32_t(k) < node_->n_inputs, "backward of '", op(), "': input ", k, " out of range (",
              node_->n_inputs, " inputs)");
  return tape_->node(node_->inputs[k]);
}

}  // namespace fugue::ad
