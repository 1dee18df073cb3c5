// PyTorch conformance: loads ${FUGUE_TORCH_REF:-${FUGUE_DATA:-$HOME/.cache/fugue}/torch_ref}/<case>.safetensors
// written by tests/nn/make_torch_reference.py (tensors param.<torch name>, input.<k>, output.<k>,
// grad.param.<torch name>, grad.input.<k>, seedgrad.<k>; config as JSON metadata) and compares
// forward (rel err <= 1e-5) and gradients (<= 1e-4) in float32. Prints one SKIP line per absent
// case. The reader below is a small test-only safetensors parser (8-byte LE header length,
// JSON header, raw little-endian data); F32/F64 tensors only.
#include "util.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>

#include "fugue/nn/attention.hpp"
#include "fugue/nn/batch_norm.hpp"
#include "fugue/nn/conv1d.hpp"
#include "fugue/nn/conv2d.hpp"
#include "fugue/nn/conv_transpose2d.hpp"
#include "fugue/nn/layer_norm.hpp"
#include "fugue/nn/transformer.hpp"

using namespace fugue;
using Tf = Tensor<float>;

namespace {
struct st_file {
  std::map<std::string, Tf> tensors;
  std::string metadata;  // raw JSON of "__metadata__"
};

std::string ref_dir() {
  if (const char* d = std::getenv("FUGUE_TORCH_REF")) return d;
  if (const char* d = std::getenv("FUGUE_DATA")) return std::string(d) + "/torch_ref";
  const char* h = std::getenv("HOME");
  return std::string(h ? h : ".") + "/.cache/fugue/torch_ref";
}

bool load(const std::string& path, st_file& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  unsigned char len8[8];
  f.read(reinterpret_cast<char*>(len8), 8);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len8[i];
  std::string header(n, '\0');
  f.read(header.data(), std::streamsize(n));
  std::vector<char> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::smatch m;
  if (std::regex_search(header, m, std::regex("\"__metadata__\"\\s*:\\s*(\\{[^}]*\\})"))) out.metadata = m[1];
  std::regex entry(
      R"re("([^"]+)"\s*:\s*\{\s*"dtype"\s*:\s*"(F32|F64)"\s*,\s*"shape"\s*:\s*\[([^\]]*)\]\s*,\s*"data_offsets"\s*:\s*\[\s*(\d+)\s*,\s*(\d+)\s*\])re");
  for (auto it = std::sregex_iterator(header.begin(), header.end(), entry); it != std::sregex_iterator(); ++it) {
    const auto& e = *it;
    std::vector<index_t> dims;
    std::stringstream ss(e[3].str());
    for (std::string tok; std::getline(ss, tok, ',');)
      if (tok.find_first_of("0123456789") != std::string::npos) dims.push_back(std::stoll(tok));
    const std::size_t b = std::stoull(e[4].str()), end = std::stoull(e[5].str());
    Shape s = Shape::from_range(dims.begin(), dims.end());
    std::vector<float> v(std::size_t(s.numel()));
    if (e[2] == "F32") {
      std::memcpy(v.data(), data.data() + b, end - b);
    } else {
      for (std::size_t i = 0; i < v.size(); ++i) {
        double d;
        std::memcpy(&d, data.data() + b + 8 * i, 8);
        v[i] = float(d);
      }
    }
    out.tensors[e[1]] = Tf::from(v, s);
  }
  return true;
}

// A number from the case's "config": a scalar, or element `idx` of a list ([3, 2] -> 3 or 2;
// a scalar answers for every idx). "config" is a JSON document stored as a JSON string, so
// its quotes arrive escaped.
double cfg(const st_file& f, const std::string& key, double fallback, std::size_t idx = 0) {
  const std::string meta = std::regex_replace(f.metadata, std::regex(R"(\\")"), "\"");
  std::smatch m;
  if (!std::regex_search(meta, m, std::regex("\"" + key + "\"\\s*:\\s*(\\[[^\\]]*\\]|[^,}]+)"))) return fallback;
  std::string v = m[1];
  if (!v.empty() && v.front() == '[') {
    std::vector<std::string> items;
    std::stringstream ss(v.substr(1, v.size() - 2));
    for (std::string tok; std::getline(ss, tok, ',');) items.push_back(tok);
    REQUIRE(idx < items.size());
    v = items[idx];
  }
  v.erase(0, v.find_first_not_of(" \t"));
  v.erase(v.find_last_not_of(" \t") + 1);
  if (v == "true") return 1;
  if (v == "false") return 0;
  return std::stod(v);
}

double rel_err(const Tf& a, const Tf& b) {
  REQUIRE(a.shape() == b.shape());
  auto x = a.to_vector(), y = b.to_vector();
  double num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    num = std::max(num, double(std::abs(x[i] - y[i])));
    den = std::max(den, double(std::abs(y[i])));
  }
  return num / std::max(den, 1e-6);
}

// Loads params into the module, runs it on the inputs, checks outputs and gradients.
template <class M, class Run>
void conform(const std::string& name, M& m, Run run) {
  st_file f;
  const std::string path = ref_dir() + "/" + name + ".safetensors";
  if (!load(path, f)) {
    std::cout << "SKIP torch conformance " << name << ": " << path
              << " not found (run tests/nn/make_torch_reference.py)\n";
    return;
  }
  INFO("case " << name);
  m.visit_parameters(
      [&](const std::string& n, ad::Parameter<float>& p) {
        auto it = f.tensors.find("param." + n);
        INFO("param." << n);
        REQUIRE(it != f.tensors.end());
        REQUIRE(it->second.shape() == p.shape());
        p.value = it->second.clone();
        p.grad = Tf{};
      },
      "");
  ad::Tape<float> tape;
  std::map<std::string, ad::Var<float>> in;
  for (auto& [k, t] : f.tensors)
    if (k.rfind("input.", 0) == 0) in.emplace(k.substr(6), tape.input(t.clone(), true));
  ad::Var<float> y = run(tape, in, f);
  REQUIRE(f.tensors.count("output.y") + f.tensors.count("output.out") + f.tensors.count("output.output") >= 1);
  std::string ok = f.tensors.count("output.y") ? "y" : f.tensors.count("output.out") ? "out" : "output";
  CHECK(rel_err(y.value(), f.tensors["output." + ok]) <= 1e-5);
  auto sg = f.tensors.find("seedgrad." + ok);
  if (sg == f.tensors.end()) return;
  tape.backward(y, sg->second);
  m.visit_parameters(
      [&](const std::string& n, ad::Parameter<float>& p) {
        auto it = f.tensors.find("grad.param." + n);
        if (it == f.tensors.end()) return;
        INFO("grad.param." << n);
        CHECK(rel_err(p.grad, it->second) <= 1e-4);
      },
      "");
  for (auto& [k, v] : in) {
    auto it = f.tensors.find("grad.input." + k);
    if (it == f.tensors.end()) continue;
    INFO("grad.input." << k);
    CHECK(rel_err(v.grad(), it->second) <= 1e-4);
  }
}
ad::Var<float> first_input(std::map<std::string, ad::Var<float>>& in) {
  REQUIRE(!in.empty());
  return in.count("x") ? in.at("x") : in.begin()->second;
}
}  // namespace

// The reference's boolean masks (stored as 0/1 inputs, 1 = masked) as fugue's AttentionMask,
// taken out of `in` so that they get no gradient check. The attention mask must be the causal
// pattern (fugue expresses it as a flag); the key padding mask is used as it is.
nn::AttentionMask<float> masks(std::map<std::string, ad::Var<float>>& in, const std::string& attn,
                               const std::string& padding) {
  nn::AttentionMask<float> mask;
  if (auto it = in.find(attn); it != in.end()) {
    const Tf a = it->second.value();
    REQUIRE(a.rank() == 2);
    for (index_t i = 0; i < a.dim(0); ++i)
      for (index_t j = 0; j < a.dim(1); ++j) {
        INFO(attn << "[" << i << ", " << j << "]");
        REQUIRE(a.data()[i * a.dim(1) + j] == (j > i ? 1.f : 0.f));
      }
    mask.causal = true;
    in.erase(it);
  }
  if (auto it = in.find(padding); it != in.end()) {
    mask.key_padding = it->second.value().clone();
    in.erase(it);
  }
  return mask;
}

TEST_CASE("PyTorch conformance (float32) when reference files are present", "[nn][torch]") {
  st_file probe;
  auto peek = [&](const std::string& n) {
    probe = st_file{};
    load(ref_dir() + "/" + n + ".safetensors", probe);
    return probe;
  };
  {
    auto f = peek("conv1d");
    nn::Conv1dOptions o;
    o.in_channels = index_t(cfg(f, "in_channels", 3));
    o.out_channels = index_t(cfg(f, "out_channels", 4));
    o.kernel_size = index_t(cfg(f, "kernel_size", 3));
    o.stride = index_t(cfg(f, "stride", 1));
    o.padding = index_t(cfg(f, "padding", 0));
    o.dilation = index_t(cfg(f, "dilation", 1));
    o.groups = index_t(cfg(f, "groups", 1));
    nn::Conv1d<float> m(o);
    conform("conv1d", m, [&](auto& t, auto& in, auto&) { return m(t, first_input(in)); });
  }
  {
    auto f = peek("conv2d");
    nn::Conv2dOptions o;
    o.in_channels = index_t(cfg(f, "in_channels", 3));
    o.out_channels = index_t(cfg(f, "out_channels", 4));
    o.kernel_h = index_t(cfg(f, "kernel_size", 3, 0));
    o.kernel_w = index_t(cfg(f, "kernel_size", 3, 1));
    o.stride_h = index_t(cfg(f, "stride", 1, 0));
    o.stride_w = index_t(cfg(f, "stride", 1, 1));
    o.padding_h = index_t(cfg(f, "padding", 0, 0));
    o.padding_w = index_t(cfg(f, "padding", 0, 1));
    o.dilation_h = index_t(cfg(f, "dilation", 1, 0));
    o.dilation_w = index_t(cfg(f, "dilation", 1, 1));
    o.groups = index_t(cfg(f, "groups", 1));
    nn::Conv2d<float> m(o);
    conform("conv2d", m, [&](auto& t, auto& in, auto&) { return m(t, first_input(in)); });
  }
  {
    auto f = peek("conv_transpose2d");
    nn::ConvTranspose2dOptions o;
    o.in_channels = index_t(cfg(f, "in_channels", 3));
    o.out_channels = index_t(cfg(f, "out_channels", 4));
    o.kernel_h = index_t(cfg(f, "kernel_size", 3, 0));
    o.kernel_w = index_t(cfg(f, "kernel_size", 3, 1));
    o.stride_h = index_t(cfg(f, "stride", 1, 0));
    o.stride_w = index_t(cfg(f, "stride", 1, 1));
    o.padding_h = index_t(cfg(f, "padding", 0, 0));
    o.padding_w = index_t(cfg(f, "padding", 0, 1));
    o.output_padding_h = index_t(cfg(f, "output_padding", 0, 0));
    o.output_padding_w = index_t(cfg(f, "output_padding", 0, 1));
    o.dilation_h = index_t(cfg(f, "dilation", 1, 0));
    o.dilation_w = index_t(cfg(f, "dilation", 1, 1));
    o.groups = index_t(cfg(f, "groups", 1));
    nn::ConvTranspose2d<float> m(o);
    conform("conv_transpose2d", m, [&](auto& t, auto& in, auto&) { return m(t, first_input(in)); });
  }
  {
    auto f = peek("layer_norm");
    nn::LayerNorm<float> m({index_t(cfg(f, "normalized_shape", 8)), cfg(f, "eps", 1e-5)});
    conform("layer_norm", m, [&](auto& t, auto& in, auto&) { return m(t, first_input(in)); });
  }
  for (std::string c : {"batch_norm_train", "batch_norm_eval"}) {
    auto f = peek(c);
    nn::BatchNormOptions o;
    o.num_features = index_t(cfg(f, "num_features", 4));
    o.eps = cfg(f, "eps", 1e-5);
    o.momentum = cfg(f, "momentum", 0.1);
    nn::BatchNorm<float> m(o);
    if (c == "batch_norm_eval") {
      m.eval();
      for (auto [k, dst] :
           {std::pair{"buffer.running_mean", &m.running_mean}, std::pair{"buffer.running_var", &m.running_var},
            std::pair{"param.running_mean", &m.running_mean}, std::pair{"param.running_var", &m.running_var}})
        if (f.tensors.count(k)) *dst = f.tensors[k].clone();
    }
    conform(c, m, [&](auto& t, auto& in, auto&) { return m(t, first_input(in)); });
  }
  for (std::string c : {"multihead_attention", "multihead_attention_self"}) {
    auto f = peek(c);
    nn::MultiheadAttentionOptions o;
    o.embed_dim = index_t(cfg(f, "embed_dim", 8));
    o.num_heads = index_t(cfg(f, "num_heads", 2));
    nn::MultiheadAttention<float> m(o);
    REQUIRE(cfg(f, "batch_first", 1) != 0);  // fugue's layout; the generator asks torch for batch_first=True
    conform(c, m, [&](auto& t, auto& in, auto&) {
      const auto mask = masks(in, "attn_mask", "key_padding_mask");
      if (in.count("memory")) {
        auto mem = in.at("memory");
        return m(t, in.at("query"), &mem, mask);
      }
      return m(t, in.at("x"), nullptr, mask);
    });
  }
  {
    auto f = peek("transformer_encoder_layer");
    nn::TransformerLayerOptions o;
    o.d_model = index_t(cfg(f, "d_model", 8));
    o.nhead = index_t(cfg(f, "nhead", 2));
    o.dim_feedforward = index_t(cfg(f, "dim_feedforward", 16));
    o.dropout = 0;
    o.layer_norm_eps = cfg(f, "layer_norm_eps", 1e-5);
    o.norm_first = cfg(f, "norm_first", 0) != 0;
    nn::TransformerEncoderLayer<float> m(o);
    conform("transformer_encoder_layer", m, [&](auto& t, auto& in, auto&) {
      const auto mask = masks(in, "src_mask", "src_key_padding_mask");
      return m(t, in.at("x"), mask);
    });
  }
}
