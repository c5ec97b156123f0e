/* What every benchmark program here starts with: the implementation, compiled into it, and a
   monotonic clock. Include it first. */
#ifndef RL_BENCH_H
#define RL_BENCH_H
#define _POSIX_C_SOURCE 200809L
#define RADLADS_IMPLEMENTATION
#include "../../radlads.h"
#include <time.h>

static double now(void) { /* seconds */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
#endif
