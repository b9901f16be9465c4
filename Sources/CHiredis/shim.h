#ifndef CLEARML_PROBE_CHIREDIS_SHIM_H
#define CLEARML_PROBE_CHIREDIS_SHIM_H
// hiredis needs no wrappers: redisCommandArgv is non-variadic and binary-safe.
#include <hiredis/hiredis.h>
#endif
