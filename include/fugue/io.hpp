// fugue/io.hpp — the io module (fugue/io/) in one include: atomic file writes, JSON,
// safetensors and WAV files (docs/io.md).
#pragma once
#include "fugue/io/atomic_file.hpp"
#include "fugue/io/json.hpp"
#include "fugue/io/safetensors.hpp"
#include "fugue/io/wav.hpp"
