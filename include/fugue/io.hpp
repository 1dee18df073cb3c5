// fugue/io.hpp — the io module (fugue/io/) in one include: atomic file writes, JSON,
// safetensors, self-describing model files, PNG and WAV files (docs/io.md).
#pragma once
#include "fugue/io/atomic_file.hpp"
#include "fugue/io/glyphs.hpp"
#include "fugue/io/html_report.hpp"
#include "fugue/io/json.hpp"
#include "fugue/io/model_file.hpp"
#include "fugue/io/plot.hpp"
#include "fugue/io/png.hpp"
#include "fugue/io/safetensors.hpp"
#include "fugue/io/wav.hpp"
