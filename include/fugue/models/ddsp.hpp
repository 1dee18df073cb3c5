// fugue/models/ddsp.hpp — the DDSP model family: decoder, synth stages, named configs, trainer,
// feature extraction and the real-time streaming engine (docs/ddsp.md).
#pragma once

#include "fugue/models/ddsp/configs.hpp"
#include "fugue/models/ddsp/decoder.hpp"
#include "fugue/models/ddsp/features.hpp"
#include "fugue/models/ddsp/model.hpp"
#include "fugue/models/ddsp/model_file.hpp"
#include "fugue/models/ddsp/reverbs.hpp"
#include "fugue/models/ddsp/streaming.hpp"
#include "fugue/models/ddsp/trainer.hpp"
