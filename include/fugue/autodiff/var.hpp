// fugue/autodiff/var.hpp — ad::Var, the handle to a tape node. Defined with the
// Tape in fugue/autodiff/tape.hpp (the two are one unit); this header is an alias.
#pragma once
#include "fugue/autodiff/tape.hpp"
