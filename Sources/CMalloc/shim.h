#ifndef CLEARML_PROBE_CMALLOC_SHIM_H
#define CLEARML_PROBE_CMALLOC_SHIM_H
// glibc's malloc tuning (mallopt), which Swift's Glibc module does not import.
#include <malloc.h>
#endif
