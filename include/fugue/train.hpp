// fugue/train.hpp — the train module (fugue/train/) in one include: the Objective concept, the
// shared Trainer, the training loop, the metrics kept beside the loss and the loss-curve
// picture (docs/train.md).
#pragma once
#include "fugue/train/loop.hpp"
#include "fugue/train/loss_curve.hpp"
#include "fugue/train/metrics.hpp"
#include "fugue/train/objective.hpp"
#include "fugue/train/trainer.hpp"
