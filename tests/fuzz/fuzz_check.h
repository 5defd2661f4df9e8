// Check(cond): an invariant broke; say which, and make libFuzzer report it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define Check(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__); \
      abort();                                                              \
    }                                                                       \
  } while (0)
