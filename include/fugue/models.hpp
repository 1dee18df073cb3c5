// fugue/models.hpp — every model family (fugue/models/) in one include: MusicVAE
// (fugue/models/music_vae.hpp, docs/music_vae.md) and DDSP (fugue/models/ddsp.hpp, docs/ddsp.md).
#pragma once
#include "fugue/models/ddsp.hpp"
#include "fugue/models/music_vae.hpp"
