#pragma once
/// @file config.hpp
/// Version macros and CFNET_ASSERT (debug-only internal invariant checks).

#include <cassert>

#define CFNET_VERSION_MAJOR 0
#define CFNET_VERSION_MINOR 1
#define CFNET_VERSION_PATCH 0
#define CFNET_VERSION_STRING "0.1.0"

/// Internal invariants, checked in debug builds only. Preconditions on user input are never
/// CFNET_ASSERTs: they throw (see error.hpp) in every build.
#ifdef NDEBUG
#define CFNET_ASSERT(cond) ((void)0)
#else
#define CFNET_ASSERT(cond) assert(cond)
#endif
