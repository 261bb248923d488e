#!/bin/sh
# Licensed under the Apache License, Version 2.0 (see LICENSE).
#
# Replays the llm seed corpus (and any reproducer added to it) through the
# fuzz target built without libFuzzer, as an ordinary TAP test of "make
# check": the target's invariants abort on a bug. PAA_SRCDIR and
# PAA_BUILDDIR come from the suite's environment (Makefile.am).

exec "${PAA_BUILDDIR:?}/tests/fuzz/fuzz_llm_replay" \
    "${PAA_SRCDIR:?}/tests/fuzz/corpus/llm"
