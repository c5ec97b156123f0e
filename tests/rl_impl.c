/* The implementation, compiled once; every test links this object. RADLADS_INTERNAL gives the
   internal functions that white-box tests call (they define RADLADS_INTERNAL alone) external
   linkage; see "INTERNAL DECLARATIONS" in radlads.h. */
#define RADLADS_INTERNAL
#define RADLADS_IMPLEMENTATION
#include "../radlads.h"
