// fugue/optim/optim.hpp — all of fugue's optimizers, clipping and schedules.
#pragma once

#include "fugue/optim/adam.hpp"
#include "fugue/optim/checkpoint.hpp"
#include "fugue/optim/clip.hpp"
#include "fugue/optim/optimizer.hpp"
#include "fugue/optim/schedule.hpp"
#include "fugue/optim/sgd.hpp"
