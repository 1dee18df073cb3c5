// fugue/models/ddsp/configs.hpp — DDSP's published decoder configurations as named types
// (docs/ddsp.md, "Configs" and "DDSP-VST"), with the options each was trained with.
//
// Contract: configs::<name><T, B> is a ddsp::Model type; <name>_options() its ModelOptions.
// Parameter counts (tests/models_ddsp asserts them):
//   solo_instrument  decoder 4,801,150 + reverb 48,000 = 4,849,150   (250 frames/s)
//   tiny_instrument  decoder   232,314 + reverb 48,000 =   280,314   (250 frames/s)
//   vst_16k          decoder 1,873,278 + reverb 16,000 = 1,889,278   (50 frames/s, hop 320)
//   nsynth_ae        encoder 843,852 + decoder 6,407,334, no reverb   (250 frames/s, z 16)
// Derivations (Dense in*out + out; LayerNorm 2 ch; GRU reset_after 3 H (in + H) + 6 H):
//   solo: stacks 2 x [(1*512 + 512 + 1024) + 2 (512*512 + 512 + 1024)] = 1,058,816;
//         GRU(1024 -> 512) = 2,362,368; out stack (1536*512 + 512 + 1024) + 527,360 = 1,315,328;
//         dense 512*126 + 126 = 64,638.
//   tiny: no stacks; GRU(2 -> 256) = 199,680; dense 258*126 + 126 = 32,634.
//   vst:  stacks 2 x 1,024; GRU(512 -> 512) = 1,575,936; out stack 1024*256 + 256 + 512 =
//         262,912; dense 256*126 + 126 = 32,382; reverb magnitudes 500 x 32.
//   nsynth_ae: stacks 2 x 529,408 + z stack (16*512 + 512 + 1024) + 527,360 = 537,088;
//         GRU(1536 -> 512) = 3,148,800; out stack (2048*512 + 512 + 1024) + 527,360 = 1,577,472;
//         dense 512*166 + 166 = 85,158; encoder: see encoders.hpp.
// A custom variant is one alias with other sizes (examples/ddsp_custom_variant.cpp).
#pragma once

#include "fugue/models/ddsp/model.hpp"

namespace fugue::models::ddsp {

inline constexpr index_t kHarmonics = 60;
inline constexpr index_t kNoiseBands = 65;
inline constexpr index_t kControls = 1 + kHarmonics + kNoiseBands;

namespace configs {

// papers/iclr2020/solo_instrument.gin: ch 512, 3 layers per stack, GRU 512, reverb 48000 taps.
template <Scalar T, Backend B = cpu::native>
using solo_instrument =
    Model<T, B, RnnFcDecoder<T, B, 512, 3, 512, kControls>, kHarmonics, kNoiseBands, TrainableReverb<T, B, 48000>>;
inline ModelOptions solo_instrument_options() { return {}; }

// papers/iclr2020/tiny_instrument.gin: no fc layers, GRU 256.
template <Scalar T, Backend B = cpu::native>
using tiny_instrument =
    Model<T, B, RnnFcDecoder<T, B, 512, 0, 256, kControls>, kHarmonics, kNoiseBands, TrainableReverb<T, B, 48000>>;
inline ModelOptions tiny_instrument_options() { return {}; }

// models/vst/vst.gin (16 kHz): 50 frames/s, ch 256, 1 layer per stack, GRU 512, linear amplitude
// resampling, FilteredNoiseReverb 24000 taps from 500 x 32 magnitudes (initial bias -3).
template <Scalar T, Backend B = cpu::native>
using vst_16k =
    Model<T, B, RnnFcDecoder<T, B, 256, 1, 512, kControls>, kHarmonics, kNoiseBands, NoiseReverb<T, B, 24000, 500, 32>>;
inline ModelOptions vst_16k_options() {
  ModelOptions o;
  o.frame_rate = 50;
  o.amp_resample = dsp::AmpResample::linear;
  return o;
}

// models/ae.gin (the NSynth autoencoder, HEAD): MFCC -> GRU 512 -> z 16 at 125 steps, decoder
// stacks 3 x 512 for loudness, f0 and z, GRU 512, 100 harmonics, 65 noise bands, no reverb.
template <Scalar T, Backend B = cpu::native>
using nsynth_ae = Model<T, B, RnnFcDecoder<T, B, 512, 3, 512, 1 + 100 + kNoiseBands, 16>, 100, kNoiseBands,
                        NoReverb<T, B>, MfccRnnEncoder<T, B, 512, 16>>;
inline ModelOptions nsynth_ae_options() { return {}; }

}  // namespace configs
}  // namespace fugue::models::ddsp
