/* fuzz_qs.c - libFuzzer harness for fuzz_qs() (targets.h). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_qs(data, size);
}
