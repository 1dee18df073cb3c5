// step() allocates nothing (global operator new/delete replaced by counting versions in
// this translation unit), and PyTorch conformance against the reference files written by
// tests/nn/make_torch_reference.py (skipped, with one SKIP line, when they are absent).
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "fugue/autodiff/ops/shape.hpp"
#include "fugue/nn/gru.hpp"
#include "fugue/nn/linear.hpp"
#include "fugue/nn/lstm.hpp"

// ------------------------------------------------------------------------------------
// Counting allocator
// ------------------------------------------------------------------------------------
namespace {
std::atomic<long> g_allocs{0};
void* counted_alloc(std::size_t n, std::size_t align) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p =
      align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align) : std::malloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, std::size_t(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, 0);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace fugue;
using Bk = cpu::native;
using Tf = Tensor<float, Bk>;

TEST_CASE("nn_recurrent: step() allocates nothing after construction") {
  nn::LSTM<float, Bk, 90, 512, 2> lstm;  // MusicVAE-sized decoder stack
  nn::GRU<float, Bk, 512, 512> gru;      // DDSP-sized GRU
  auto ls = lstm.make_state(1);
  auto gs = gru.make_state(1);
  const Tf x = Tf::uniform({1, 90}, Philox{1, 0});
  const Tf xg = Tf::uniform({1, 512}, Philox{1, 1});
  lstm.step(x, ls);  // first call may warm per-thread GEMM scratch
  gru.step(xg, gs);
  long before = g_allocs.load();
  for (int i = 0; i < 20; ++i) {
    lstm.step(x, ls);
    gru.step(xg, gs);
  }
  CHECK(g_allocs.load() - before == 0);

  // A larger batch: make_state(4) sizes the state's step scratch, so still nothing.
  auto ls4 = lstm.make_state(4);
  auto gs4 = gru.make_state(4);
  const Tf x4 = Tf::uniform({4, 90}, Philox{1, 2});
  const Tf xg4 = Tf::uniform({4, 512}, Philox{1, 3});
  lstm.step(x4, ls4);
  gru.step(xg4, gs4);
  before = g_allocs.load();
  for (int i = 0; i < 5; ++i) {
    lstm.step(x4, ls4);
    gru.step(xg4, gs4);
  }
  CHECK(g_allocs.load() - before == 0);
  // Sanity: the counter does count.
  before = g_allocs.load();
  {
    Tf t = Tf::zeros({3});
    (void)t;
  }
  CHECK(g_allocs.load() - before > 0);
}

// ------------------------------------------------------------------------------------
// PyTorch conformance
// ------------------------------------------------------------------------------------
namespace {

// Test-only safetensors reader: 8-byte LE header length, JSON header, raw data.
// Handles F32 / F64 tensors and string metadata; enough for the reference files.
struct StFile {
  std::map<std::string, Tf> tensors;
  std::map<std::string, std::string> metadata;
};

struct Json {
  const std::string& s;
  std::size_t i = 0;
  void ws() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  std::string str() {
    ws();
    REQUIRE(s[i] == '"');
    std::string out;
    for (++i; s[i] != '"'; ++i) {
      if (s[i] == '\\') ++i;
      out += s[i];
    }
    ++i;
    return out;
  }
  std::vector<long long> ints() {
    ws();
    REQUIRE(s[i] == '[');
    ++i;
    std::vector<long long> v;
    for (;;) {
      ws();
      if (s[i] == ']') {
        ++i;
        return v;
      }
      if (s[i] == ',') {
        ++i;
        continue;
      }
      std::size_t used = 0;
      v.push_back(std::stoll(s.substr(i, 32), &used));
      i += used;
    }
  }
  void skip() {  // any value
    ws();
    if (s[i] == '"') {
      str();
      return;
    }
    if (s[i] == '{' || s[i] == '[') {
      int depth = 0;
      bool in_str = false;
      for (; i < s.size(); ++i) {
        const char c = s[i];
        if (in_str) {
          if (c == '\\')
            ++i;
          else if (c == '"')
            in_str = false;
          continue;
        }
        if (c == '"')
          in_str = true;
        else if (c == '{' || c == '[')
          ++depth;
        else if ((c == '}' || c == ']') && --depth == 0) {
          ++i;
          return;
        }
      }
      return;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  }
};

StFile read_safetensors(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE(f.good());
  unsigned char len8[8];
  f.read(reinterpret_cast<char*>(len8), 8);
  std::uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | len8[k];
  std::string header(n, '\0');
  f.read(header.data(), std::streamsize(n));
  std::vector<char> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  StFile out;
  Json j{header};
  j.ws();
  REQUIRE(header[j.i] == '{');
  ++j.i;
  for (;;) {
    j.ws();
    if (header[j.i] == '}') break;
    if (header[j.i] == ',') {
      ++j.i;
      continue;
    }
    const std::string name = j.str();
    j.ws();
    ++j.i;  // ':'
    j.ws();
    if (name == "__metadata__") {
      ++j.i;  // '{'
      for (;;) {
        j.ws();
        if (header[j.i] == '}') {
          ++j.i;
          break;
        }
        if (header[j.i] == ',') {
          ++j.i;
          continue;
        }
        const std::string k = j.str();
        j.ws();
        ++j.i;
        j.ws();
        if (header[j.i] == '"')
          out.metadata[k] = j.str();
        else
          j.skip();
      }
      continue;
    }
    std::string dtype;
    std::vector<long long> shape, offs;
    ++j.i;  // '{'
    for (;;) {
      j.ws();
      if (header[j.i] == '}') {
        ++j.i;
        break;
      }
      if (header[j.i] == ',') {
        ++j.i;
        continue;
      }
      const std::string k = j.str();
      j.ws();
      ++j.i;
      if (k == "dtype")
        dtype = j.str();
      else if (k == "shape")
        shape = j.ints();
      else if (k == "data_offsets")
        offs = j.ints();
      else
        j.skip();
    }
    REQUIRE(offs.size() == 2);
    const Shape s = Shape::from_range(shape.begin(), shape.end());
    std::vector<float> v(static_cast<std::size_t>(s.numel()));
    const char* src = data.data() + offs[0];
    if (dtype == "F32") {
      std::memcpy(v.data(), src, v.size() * 4);
    } else if (dtype == "F64") {
      for (std::size_t k = 0; k < v.size(); ++k) {
        double d;
        std::memcpy(&d, src + 8 * k, 8);
        v[k] = float(d);
      }
    } else {
      continue;  // integer tensors are not used here
    }
    out.tensors[name] = Tf::from(v, s);
  }
  return out;
}

std::filesystem::path ref_dir() {
  if (const char* e = std::getenv("FUGUE_TORCH_REF")) return e;
  if (const char* d = std::getenv("FUGUE_DATA")) return std::filesystem::path(d) / "torch_ref";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : ".") / ".cache/fugue/torch_ref";
}

const Tf* find(const StFile& f, const std::string& group, std::initializer_list<const char*> keys,
               std::string* key = nullptr) {
  for (const char* k : keys) {
    auto it = f.tensors.find(group + "." + k);
    if (it != f.tensors.end()) {
      if (key) *key = k;
      return &it->second;
    }
  }
  return nullptr;
}

double rel_err(const Tf& a, const Tf& b) {
  REQUIRE(a.shape() == b.shape());
  const auto av = a.to_vector(), bv = b.to_vector();
  double num = 0, den = 1e-30;
  for (std::size_t i = 0; i < av.size(); ++i) {
    num = std::max(num, std::abs(double(av[i]) - double(bv[i])));
    den = std::max(den, std::abs(double(bv[i])));
  }
  return num / den;
}

bool batch_first(const StFile& f) {
  auto it = f.metadata.find("batch_first");
  if (it == f.metadata.end()) return true;
  return it->second == "1" || it->second == "true" || it->second == "True";
}

using Tape = ad::Tape<float, Bk>;
using Var = ad::Var<float, Bk>;

// Runs one reference case: builds outputs from the tape, seeds with seedgrad, compares.
template <class Run>
void check_case(const std::string& name, Run&& run) {
  const auto path = ref_dir() / (name + ".safetensors");
  if (!std::filesystem::exists(path)) {
    std::printf("SKIP nn_recurrent torch conformance '%s': %s not found (run tests/nn/make_torch_reference.py)\n",
                name.c_str(), path.c_str());
    return;
  }
  INFO("case " << name << " from " << path.string());
  const StFile f = read_safetensors(path);
  run(f);
}

struct Outs {
  std::vector<std::pair<std::string, Var>> out;  // key -> var (torch layout)
};

void compare_outputs(const StFile& f, Tape& tape, const Outs& o) {
  std::vector<Var> flat;
  std::vector<float> seed;
  for (auto& [k, v] : o.out) {
    const auto it = f.tensors.find("output." + k);
    REQUIRE(it != f.tensors.end());
    INFO("output." << k);
    CHECK(rel_err(v.value(), it->second) <= 1e-5);
    const auto sg = f.tensors.find("seedgrad." + k);
    const auto sv = sg != f.tensors.end() ? sg->second.to_vector() : std::vector<float>(std::size_t(v.numel()), 0.f);
    seed.insert(seed.end(), sv.begin(), sv.end());
    flat.push_back(ad::reshape(v, {-1}));
  }
  Var all = ad::concat(flat, 0);
  tape.backward(all, Tf::from(seed, all.shape()));
}

void check_grad(const StFile& f, const std::string& key, const Tf& g) {
  const auto it = f.tensors.find(key);
  if (it == f.tensors.end()) return;
  INFO(key);
  CHECK(rel_err(g, it->second) <= 1e-4);
}

template <class Net>
void rnn_case(const StFile& f, Net& net, bool is_lstm) {
  {
    nn::detail::NamedTensors<float, Bk> sd;
    for (auto& [k, v] : f.tensors)
      if (k.rfind("param.", 0) == 0) sd[k.substr(6)] = v;
    net.load_pytorch(sd, "");
  }
  const bool bf = batch_first(f);
  std::string xk;
  const Tf* x = find(f, "input", {"x", "input", "0"}, &xk);
  REQUIRE(x);
  Tape tape;
  Var xv = tape.input(*x, true);
  Var xb = bf ? xv : ad::transpose(xv, 0, 1);
  std::string hk, ck;
  const Tf* h0 = find(f, "input", {"h0", "hx", "1"}, &hk);
  const Tf* c0 = is_lstm ? find(f, "input", {"c0", "cx", "2"}, &ck) : nullptr;
  std::vector<Var> h0s, c0s;
  Var h0v, c0v;
  if (h0) {
    h0v = tape.input(*h0, true);
    for (index_t i = 0; i < h0->dim(0); ++i) h0s.push_back(ad::select(h0v, 0, i));
  }
  if (c0) {
    c0v = tape.input(*c0, true);
    for (index_t i = 0; i < c0->dim(0); ++i) c0s.push_back(ad::select(c0v, 0, i));
  }
  Outs o;
  std::string yk, hnk, cnk;
  find(f, "output", {"y", "output", "0"}, &yk);
  find(f, "output", {"h_n", "hn", "h", "1"}, &hnk);
  find(f, "output", {"c_n", "cn", "c", "2"}, &cnk);
  std::vector<Var> hn, cn;
  Var y;
  if constexpr (requires { typename Net::StateVars; }) {
    typename Net::StateVars s{h0s, c0s};
    auto r = net(tape, xb, h0 && c0 ? &s : nullptr);
    y = r.y;
    hn = r.final.h;
    cn = r.final.c;
  } else {
    auto r = net(tape, xb, h0 ? &h0s : nullptr);
    y = r.y;
    hn = r.final;
  }
  o.out.emplace_back(yk, bf ? y : ad::transpose(y, 0, 1));
  if (!hnk.empty()) o.out.emplace_back(hnk, ad::stack(hn, 0));
  if (!cnk.empty() && !cn.empty()) o.out.emplace_back(cnk, ad::stack(cn, 0));
  compare_outputs(f, tape, o);
  check_grad(f, "grad.input." + xk, xv.grad());
  if (h0) check_grad(f, "grad.input." + hk, h0v.grad());
  if (c0) check_grad(f, "grad.input." + ck, c0v.grad());
  for (int l = 0; l < Net::layers; ++l)
    for (int d = 0; d < Net::directions; ++d) {
      auto& cell = net.cell(l, d);
      const std::string s = "_l" + std::to_string(l) + (d ? "_reverse" : "");
      if constexpr (requires { cell.recurrent_kernel; }) {
        auto g = cell.to_pytorch(cell.kernel.grad, cell.recurrent_kernel.grad, cell.bias.grad);
        check_grad(f, "grad.param.weight_ih" + s, g.weight_ih);
        check_grad(f, "grad.param.weight_hh" + s, g.weight_hh);
        check_grad(f, "grad.param.bias_ih" + s, g.bias_ih);
        check_grad(f, "grad.param.bias_hh" + s, g.bias_hh);
      } else {
        auto g = cell.to_pytorch(cell.kernel.grad, cell.bias.grad);
        check_grad(f, "grad.param.weight_ih" + s, g.weight_ih);
        check_grad(f, "grad.param.weight_hh" + s, g.weight_hh);
        check_grad(f, "grad.param.bias_ih" + s, g.bias);
        check_grad(f, "grad.param.bias_hh" + s, g.bias);
      }
    }
}

index_t count_layers(const StFile& f) {
  index_t n = 0;
  while (f.tensors.count("param.weight_ih_l" + std::to_string(n))) ++n;
  return n;
}

}  // namespace

TEST_CASE("nn_recurrent: PyTorch conformance (reference files)") {
  bool any = false;
  for (const char* c : {"linear", "lstm_stacked", "lstm_bidirectional", "gru"})
    any = any || std::filesystem::exists(ref_dir() / (std::string(c) + ".safetensors"));
  if (!any) {
    std::printf(
        "SKIP nn_recurrent torch conformance: no reference files in %s (set FUGUE_TORCH_REF or run "
        "tests/nn/make_torch_reference.py)\n",
        ref_dir().c_str());
    return;
  }
  check_case("linear", [](const StFile& f) {
    const Tf& w = f.tensors.at("param.weight");
    nn::Linear<float, Bk> lin(w.dim(1), w.dim(0));
    auto b = f.tensors.find("param.bias");
    lin.load_pytorch(w, b != f.tensors.end() ? b->second : Tf{});
    std::string xk, yk;
    const Tf* x = find(f, "input", {"x", "input", "0"}, &xk);
    REQUIRE(x);
    find(f, "output", {"y", "output", "0"}, &yk);
    Tape tape;
    Var xv = tape.input(*x, true);
    Outs o;
    o.out.emplace_back(yk, lin(tape, xv));
    compare_outputs(f, tape, o);
    check_grad(f, "grad.input." + xk, xv.grad());
    check_grad(f, "grad.param.weight", lin.weight.grad);
    if (lin.has_bias()) check_grad(f, "grad.param.bias", lin.bias.grad);
  });
  // Layer counts / sizes come from the file; the types fix layers and direction.
  check_case("lstm_stacked", [](const StFile& f) {
    REQUIRE(count_layers(f) == 2);
    const Tf& w = f.tensors.at("param.weight_ih_l0");
    nn::LSTM<float, Bk, dyn, dyn, 2> net(w.dim(1), w.dim(0) / 4);
    rnn_case(f, net, true);
  });
  check_case("lstm_bidirectional", [](const StFile& f) {
    const Tf& w = f.tensors.at("param.weight_ih_l0");
    const index_t layers = count_layers(f);
    REQUIRE((layers == 1 || layers == 2));
    if (layers == 1) {
      nn::LSTM<float, Bk, dyn, dyn, 1, true> net(w.dim(1), w.dim(0) / 4);
      rnn_case(f, net, true);
    } else {
      nn::LSTM<float, Bk, dyn, dyn, 2, true> net(w.dim(1), w.dim(0) / 4);
      rnn_case(f, net, true);
    }
  });
  check_case("gru", [](const StFile& f) {
    const Tf& w = f.tensors.at("param.weight_ih_l0");
    const index_t layers = count_layers(f);
    const bool bi = f.tensors.count("param.weight_ih_l0_reverse") != 0;
    REQUIRE((layers == 1 || layers == 2));
    if (bi) {
      nn::GRU<float, Bk, dyn, dyn, 1, true> net(w.dim(1), w.dim(0) / 3);
      REQUIRE(layers == 1);
      rnn_case(f, net, false);
    } else if (layers == 1) {
      nn::GRU<float, Bk, dyn, dyn, 1> net(w.dim(1), w.dim(0) / 3);
      rnn_case(f, net, false);
    } else {
      nn::GRU<float, Bk, dyn, dyn, 2> net(w.dim(1), w.dim(0) / 3);
      rnn_case(f, net, false);
    }
  });
}
