// fugue/dsp.hpp — the dsp module (fugue/dsp/) in one include: windows, framing, FFT / STFT,
// mel and MFCC features, f0 and loudness, the differentiable synthesis ops (harmonic, filtered
// noise, reverb), the spectral loss and spectrogram pictures (docs/dsp.md).
#pragma once
#include "fugue/dsp/array2.hpp"
#include "fugue/dsp/db.hpp"
#include "fugue/dsp/f0.hpp"
#include "fugue/dsp/features.hpp"
#include "fugue/dsp/fft.hpp"
#include "fugue/dsp/filtered_noise.hpp"
#include "fugue/dsp/framing.hpp"
#include "fugue/dsp/harmonic_equations.hpp"
#include "fugue/dsp/harmonic_synth.hpp"
#include "fugue/dsp/host_kernels.hpp"
#include "fugue/dsp/instantaneous_frequency.hpp"
#include "fugue/dsp/loudness.hpp"
#include "fugue/dsp/mel.hpp"
#include "fugue/dsp/reverb.hpp"
#include "fugue/dsp/spectral_loss.hpp"
#include "fugue/dsp/spectrogram_image.hpp"
#include "fugue/dsp/stft.hpp"
#include "fugue/dsp/stft_magnitude_op.hpp"
#include "fugue/dsp/window.hpp"
