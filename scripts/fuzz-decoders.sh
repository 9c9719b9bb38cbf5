#!/usr/bin/env bash
# Runs the decoder property tests (agents-core/src/openai/decode_fuzz_test.rs)
# at a million generated inputs in all, in a release build.
#
#   scripts/fuzz-decoders.sh [total-inputs]     (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-1000000}"
properties=6
export PROPTEST_CASES=$(( (total + properties - 1) / properties ))
echo "fuzz-decoders: ${properties} properties x ${PROPTEST_CASES} cases = $(( properties * PROPTEST_CASES )) inputs"
cargo test --release -q -p agents-core --features openai --lib decode_fuzz_test -- --test-threads=2
