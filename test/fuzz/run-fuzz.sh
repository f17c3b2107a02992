#!/usr/bin/env bash
# run-fuzz.sh [SECONDS] [libFuzzer args...] — build test/fuzz/fuzz_fsm.c with clang
# (-fsanitize=fuzzer,address,undefined) against the state machine sources (the ike_fsm library)
# and fuzz for SECONDS (default 60). A crash leaves its input in the artifact folder
# (IKESTATE_FUZZ_ARTIFACTS, default a temp dir that is kept and printed only on failure).
#   IKESTATE_FUZZ_CORPUS=DIR  keep and grow a corpus between runs (default: a fresh temp dir)
# Reproduce a crash: BIN crash-<sha1>  (BIN is printed; or rerun this script with the file as arg).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
secs=${1:-60}; [ $# -gt 0 ] && shift
cc=${IKESTATE_FUZZ_CC:-clang}
# libFuzzer's runtime is in libclang-rt-*-dev, which clang does not depend on (Debian 12: 14).
if ! command -v "$cc" > /dev/null || ! "$cc" -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q /; then
	"$here/../ensure-packages.sh" clang libclang-rt-dev
fi
tmp=$(mktemp -d /tmp/ikestate-fuzz.XXXXXX)
keep=0
trap '[ $keep = 1 ] || rm -rf "$tmp"' EXIT
bin=$tmp/fuzz_fsm
# The core's sources: plugin/ike_*.c (no epan there; test/architecture.sh checks it).
fsm_src=("$src"/plugin/ike_*.c)
[ -f "${fsm_src[0]}" ] || { echo "run-fuzz.sh: no core sources (plugin/ike_*.c)"; exit 1; }
# shellcheck disable=SC2046  # pkg-config prints several words on purpose
"$cc" -g -O1 -std=c11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -I"$src/plugin" "$here/fuzz_fsm.c" "${fsm_src[@]}" \
	$(pkg-config --cflags --libs glib-2.0) -o "$bin"
corpus=${IKESTATE_FUZZ_CORPUS:-$tmp/corpus}
art=${IKESTATE_FUZZ_ARTIFACTS:-$tmp/artifacts}
mkdir -p "$corpus" "$art"
# Seeds: long pseudo-random programs (any bytes decode), so long message sequences are explored
# from the start instead of waiting for libFuzzer to grow its inputs.
if [ -z "$(ls -A "$corpus")" ]; then
	python3 -c 'import random, sys
for n in (512, 4096, 16384):
    random.seed(n); open("%s/seed-%d" % (sys.argv[1], n), "wb").write(random.randbytes(n))' "$corpus"
fi
# Reproducing given files: run them once, no fuzzing.
if [ $# -gt 0 ] && [ -f "$1" ]; then
	exec "$bin" "$@"
fi
# -max_len 65536: long message sequences (a record is 2..~60 bytes). rss/timeout: a slow or
# memory-hungry input is a finding too.
rc=0
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
	"$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$art/" "$@" "$corpus" > "$tmp/log" 2>&1 || rc=$?
grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|^#[0-9]+.*DONE' "$tmp/log" || true
if [ $rc != 0 ]; then
	keep=1
	grep -E -B2 -A25 'ERROR:|runtime error|contract violated|deadly signal|timeout' "$tmp/log" | head -60
	echo "FAIL: fuzz_fsm found a crash (rc $rc); reproducer(s) in $art: $(ls "$art")"
	echo "reproduce: $bin $art/<file>   (binary kept in $tmp)"
	exit 1
fi
echo "fuzz_fsm: no finding in ${secs} s"
