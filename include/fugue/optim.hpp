// fugue/optim.hpp — the optim module (fugue/optim/) in one include: optimizers, gradient
// clipping, learning-rate schedules and (training) checkpoints (docs/optim.md).
#pragma once
#include "fugue/optim/adam.hpp"
#include "fugue/optim/checkpoint.hpp"
#include "fugue/optim/clip.hpp"
#include "fugue/optim/optimizer.hpp"
#include "fugue/optim/schedule.hpp"
#include "fugue/optim/sgd.hpp"
#include "fugue/optim/training_checkpoint.hpp"
