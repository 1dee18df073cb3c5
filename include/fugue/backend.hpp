// fugue/backend.hpp — the backend module's CPU side (fugue/backend/) in one include.
//
// Contract: includes the Backend concept, the CPU backend (fugue/backend/cpu.hpp:
// cpu::native, cpu::scalar) with every CPU kernel header (FFT and binary16 GEMV included), the
// block cache and the host-only marker. It does not include the CUDA backend: include
// fugue/backend/cuda.hpp by name (it needs nvcc, or a Thrust host system; docs/cuda.md).
#pragma once
#include "fugue/backend/caching_allocator.hpp"
#include "fugue/backend/concept.hpp"
#include "fugue/backend/cpu.hpp"
#include "fugue/backend/cpu/fft.hpp"
#include "fugue/core/functors.hpp"
#include "fugue/backend/cpu/gemv_f16.hpp"
#include "fugue/backend/host_only.hpp"
