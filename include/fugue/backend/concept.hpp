// fugue/backend/concept.hpp — what a backend type must provide.
//
// Contract: forwards to fugue/core/backend_concept.hpp, where fugue::Backend and
// fugue::Scalar are defined (the interface lives in core so that core/tensor.hpp includes
// no backend implementation). Backend headers and user code may keep including this one.
#pragma once

#include "fugue/core/backend_concept.hpp"
