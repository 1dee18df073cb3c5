// fugue/models/music_vae.hpp — MusicVAE (Roberts et al. 2018) in one include: the building
// blocks, decoders, the model, Magenta's configs and the trainer.
#pragma once
#include "fugue/models/music_vae/configs.hpp"
#include "fugue/models/music_vae/data.hpp"
#include "fugue/models/music_vae/decoders.hpp"
#include "fugue/models/music_vae/layers.hpp"
#include "fugue/models/music_vae/model.hpp"
#include "fugue/models/music_vae/model_file.hpp"
#include "fugue/models/music_vae/schedules.hpp"
#include "fugue/models/music_vae/trainer.hpp"
