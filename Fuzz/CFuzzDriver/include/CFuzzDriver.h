#ifndef CLEARML_PROBE_CFUZZDRIVER_H
#define CLEARML_PROBE_CFUZZDRIVER_H
// libFuzzer's driver, for a `main` that SwiftPM names itself: SwiftPM links an executable's entry point as
// `<Module>_main`, so the fuzz targets call the driver from there instead of using libFuzzer's own `main`.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
