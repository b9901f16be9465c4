#ifndef CLEARML_PROBE_CMONGOC_SHIM_H
#define CLEARML_PROBE_CMONGOC_SHIM_H
// libmongoc needs no wrappers when BCON and BSON_APPEND_* macros are avoided (bson_new_from_json, bson_append_*).
#include <mongoc/mongoc.h>
#endif
