// Transformer encoder layer (d_model 512, 8 heads, ff 2048, post-norm, relu, dropout 0.1,
// train mode) forward + backward at B=8, S=256, float32 — the shape of
// torch.nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True) in
// benchmarks/transformer/torch_transformer.py. The argument is the CPU thread count.
// Each iteration: clear the tape, record the layer, backward from a fixed seed gradient
// (input and all parameters receive gradients, as inside a stack).
#include <benchmark/benchmark.h>

#include "fugue/ops.hpp"
#include "fugue/tensor.hpp"
#include "fugue/nn/transformer.hpp"

using namespace fugue;

static void BM_transformer_encoder_layer(benchmark::State& state) {
  cpu::set_num_threads(int(state.range(0)));
  const index_t B = 8, S = 256, D = 512;
  nn::TransformerLayerOptions o;
  o.d_model = D;
  o.nhead = 8;
  o.dim_feedforward = 2048;
  o.dropout = 0.1;
  nn::TransformerEncoderLayer<float> layer(o);
  auto x = Tensor<float>::normal({B, S, D}, Philox{1, 0});
  auto seed = Tensor<float>::normal({B, S, D}, Philox{2, 0});
  ad::Tape<float> tape;
  for (auto _ : state) {
    tape.clear();
    auto xv = tape.input(x, true);
    auto y = layer(tape, xv);
    tape.backward(y, seed);
    benchmark::DoNotOptimize(xv.grad().data());
  }
  nn::zero_grad(layer);
  state.SetLabel("B=8 S=256 d=512 h=8 ff=2048 fwd+bwd");
  cpu::set_num_threads(1);
}
BENCHMARK(BM_transformer_encoder_layer)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

static void BM_transformer_encoder_layer_forward(benchmark::State& state) {
  cpu::set_num_threads(int(state.range(0)));
  nn::TransformerLayerOptions o;
  o.d_model = 512;
  o.nhead = 8;
  o.dim_feedforward = 2048;
  nn::TransformerEncoderLayer<float> layer(o);
  layer.eval();
  auto x = Tensor<float>::normal({8, 256, 512}, Philox{1, 0});
  for (auto _ : state) benchmark::DoNotOptimize(layer.forward(x).data());
  cpu::set_num_threads(1);
}
BENCHMARK(BM_transformer_encoder_layer_forward)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

BENCHMARK_MAIN();
