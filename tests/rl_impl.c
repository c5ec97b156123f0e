/* The implementation, compiled once: the black-box tests (those that use only the public
   API) link this object. White-box tests (Makefile: WHITEBOX) define RADLADS_IMPLEMENTATION
   themselves because they reach internal rl__ functions and types. */
#define RADLADS_IMPLEMENTATION
#include "../radlads.h"
