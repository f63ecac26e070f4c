// libFuzzer's entry for programs that have a main of their own (clang's FuzzerInterface.h).
// SwiftPM links every executable target's main as `<Module>_main`, so the fuzz targets define
// that and hand over to libFuzzer's driver here, instead of using libFuzzer's own main.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
