// fugue/music/music.hpp — the old path of fugue/music.hpp, kept for code outside include/ that uses it.
#pragma once
#include "fugue/music.hpp"
