/* fuzz_multipart.c - libFuzzer harness for fuzz_multipart() (targets.h). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_multipart(data, size);
}
