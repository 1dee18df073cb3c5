// fugue/dsp/fft.hpp — the real FFT as the DSP modules name it.
//
// Contract: fugue::dsp::RealFFT, rfft and irfft are fugue::cpu's FFTW-backed ones
// (fugue/backend/cpu/fft.hpp states their contract).
#pragma once

#include "fugue/backend/cpu/fft.hpp"

namespace fugue::dsp {
using cpu::fft_real;
using cpu::irfft;
using cpu::RealFFT;
using cpu::rfft;
}  // namespace fugue::dsp
