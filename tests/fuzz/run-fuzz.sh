#!/bin/sh
# Run a libFuzzer target for a bounded time on a fresh corpus (a temporary
# directory, so the source tree is never written) started from the seeds.
# Fails on any crash, leak, timeout or excess memory; crash inputs are
# kept in ARTIFACTS.  HS_FUZZ_SECONDS overrides SECONDS.
#
# usage: run-fuzz.sh FUZZER ARTIFACTS SECONDS DICT SEED...
set -eu
fuzzer=$1 artifacts=$2 seconds=${HS_FUZZ_SECONDS:-$3} dict=$4
shift 4
corpus=$(mktemp -d "${TMPDIR:-/tmp}/hs-fuzz-corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp "$@" "$corpus"/
mkdir -p "$artifacts"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
	-max_len=65536 -print_final_stats=1 -dict="$dict" \
	-artifact_prefix="$artifacts/" "$corpus"
