/* Licensed under the Apache License, Version 2.0 (see LICENSE). */

/* What a fuzz target provides, so that one replayer (standalone.c) can run
 * any of them over its seed corpus as an ordinary test, and libFuzzer can
 * run the same code when fuzzing (run-fuzzers.sh). */

#ifndef PAA_FUZZ_H
#define PAA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/**
 * The libFuzzer entry point: one input, any bytes. Returns 0; a broken
 * invariant calls abort().
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/**
 * Called by the replayer after LLVMFuzzerTestOneInput with the input's
 * file name (no directory). Seeds named for a case (expired.jwt,
 * pak_valid, ...) must still produce that case: a seed that silently
 * stopped being what its name says would no longer test it.
 * @return NULL when the outcome is the expected one or the name is not a
 *         known seed (inputs the fuzzer added), else what went wrong
 */
const char *paa_fuzz_check_seed(const char *name);

#endif /* PAA_FUZZ_H */
