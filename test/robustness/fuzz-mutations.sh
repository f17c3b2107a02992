#!/usr/bin/env bash
# fuzz-mutations.sh [COUNT] — seeded, reproducible mutation fuzzing of the capture corpus through
# tshark with the ASan+UBSan plugin (default COUNT 10000 mutated captures).
#
# Capture k (0-based) of run seed S is capture k mod N of the corpus (test/captures + the
# ../shared captures that contain ISAKMP), mutated by ONE mutation whose parameters all derive
# from (S, k) (mutate.py: byte errors from an offset on, sometimes truncation, a dropped frame, or a
# far-future time shift). tshark start-up costs more than dissecting a small
# capture, so BATCH mutated captures are appended into one pcapng (mergecap -a) and dissected by
# one tshark, alternately one pass and two passes with -V, the two-pass ones with every key table of
# test/captures/keys loaded (decrypted garbage is input too). JOBS batches run in parallel.
# A batch that fails (sanitizer report, dissector bug, abnormal exit) is halved until the failing
# capture stands alone; reproducers are kept in OUT with the mutate.py command that made them.
#
#   IKESTATE_FUZZ_SEED=S        run seed (default 1)    IKESTATE_FUZZ_BATCH=B  (default 100)
#   IKESTATE_FUZZ_JOBS=J        (default nproc)         IKESTATE_FUZZ_MAX_SECONDS (default 1200)
#   IKESTATE_FUZZ_OUT=DIR       where findings go (default a new /tmp/ikestate-findings.* dir)
#   IKESTATE_FUZZ_TIMESHIFT=0   leave timestamps alone (to look past a known time overflow)
#   plus IKESTATE_SAN_SO / IKESTATE_SHARED (common.sh)
# Turning a finding into a regression capture: see test/robustness/README.md.
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${1:-10000}
seed=${IKESTATE_FUZZ_SEED:-1}
batch=${IKESTATE_FUZZ_BATCH:-100}
jobs=${IKESTATE_FUZZ_JOBS:-$(nproc)}
max_s=${IKESTATE_FUZZ_MAX_SECONDS:-1200}
notshift=''; [ "${IKESTATE_FUZZ_TIMESHIFT:-1}" = 1 ] || notshift=--no-timeshift
tmp=$(mktemp -d /tmp/ikestate-mut.XXXXXX); trap 'rm -rf "$tmp"' EXIT
chmod a+rx "$tmp"
so=$(rob_san_so "$tmp")
readelf -d "$so" | grep -q 'NEEDED.*libasan' || { echo "FAIL: $so is not a sanitized build"; exit 1; }
IKESTATE_SO=$so "$rob_here/../tshark-plugin.sh" - -v > /dev/null   # it loads under the preload

# Corpus: every capture. The few without ISAKMP cost fewer batches than finding them would (one
# tshark start each, a third of the run).
rob_corpus | tr '\0' '\n' > "$tmp/corpus"
ncorp=$(wc -l < "$tmp/corpus")
[ "$ncorp" -gt 0 ] || { echo "FAIL: empty corpus"; exit 1; }

# Every IKE key table of test/captures/keys, loaded for the two-pass batches (rows are per SPI, so
# one table serves all captures): mutated ciphertext of a keyed capture decrypts into garbage, which
# the plugin's parser of decrypted payloads must take like any other bytes. Half the batches: the
# parse runs in the first pass of either mode, and 3,000 captures took 150 s without keys, 157 s
# with them on half the batches, 163 s on all.
for t in "$rob_src"/test/captures/keys/*.ikev[12]_decryption_table; do
	uat=${t##*.}
	grep -v '^#' "$t" | while IFS= read -r row; do printf '%s\n%s\n' -o "uat:$uat:$row"; done
done > "$tmp/keyopts"

# run_batch B: mutate, then settle the batch.
run_batch() {
	local b=$1 d=$tmp/b$1 k first=$(( $1 * batch )) end files=() mode mode_txt
	end=$(( first + batch < count ? first + batch : count ))
	mkdir -p "$d"
	/usr/bin/python3 "$rob_here/mutate.py" --batch "$seed" "$first" "$end" "$tmp/corpus" "$d" $notshift
	for ((k = first; k < end; k++)); do [ -f "$d/m$k.pcapng" ] && files+=("$d/m$k.pcapng"); done
	[ ${#files[@]} -gt 0 ] || return 0
	mode=(-V) mode_txt='tshark -V'
	if (( b % 2 )); then mapfile -t mode < "$tmp/keyopts"; mode+=(-2 -V); mode_txt='tshark -2 -V, every key table'; fi
	settle "$b" "$d" "${files[@]}" || true
	echo "${#files[@]}" > "$d/done"   # what was written: a mutator that fails fuzzes nothing, and the count says so
	rm -f "$d"/m*.pcapng "$d/set.pcapng"
}
# settle B DIR FILE...: the FILEs appended into one capture and dissected; a failing set is halved
# until each failing capture stands alone. A Wireshark dissector bug that stock tshark reports
# alike costs one stock run: it no longer stops tshark (see dissect), so every frame was
# dissected. Only when both exit abnormally (what follows was not dissected) is the set halved.
# A finding that needs captures together (neither half fails) is kept as that set. Reproducers
# come with the mutate.py command that made them, one per bug signature. Exit 1: a finding.
settle() {
	local b=$1 d=$2 r=0 sig j name; shift 2
	if [ $# = 1 ]; then cp "$1" "$d/set.pcapng"; else mergecap -a -F pcapng -w "$d/set.pcapng" "$@" 2> /dev/null || true; fi
	dissect "$d/set.pcapng" "$d/err" "${mode[@]}" || r=$?
	[ $r = 0 ] && return 0
	sig=$(signature "$d/err")
	if [ $r = 2 ] && [ "$dissect_rc" = 0 ]; then
		echo "stock tshark also reports it (not ikestate): batch $b: $sig"
		return 0
	fi
	if [ $r = 1 ] && [ -d "$out/rep-$(echo "$sig" | md5sum | cut -c1-12)" ]; then
		echo "FINDING in batch $b ($mode_txt): $sig"   # reproduced already: no need to halve
		return 1
	fi
	if [ $# -gt 1 ]; then
		local h=$(( $# / 2 )) found=0
		settle "$b" "$d" "${@:1:h}" || found=1
		settle "$b" "$d" "${@:h+1}" || found=1
		[ $r = 2 ] || [ $found = 1 ] && return $found
		# Only together: the set is the reproducer (made again, the halves overwrote it).
		mergecap -a -F pcapng -w "$d/set.pcapng" "$@" 2> /dev/null || true
		dissect "$d/set.pcapng" "$d/err" "${mode[@]}" || true
		j="set-${1##*/m}"; j=${j%.pcapng}
		sig=$(signature "$d/err")
	else
		j=${1##*/m}; j=${j%.pcapng}
	fi
	if [ $r = 2 ]; then
		echo "stock tshark also fails (not ikestate): capture $j: $sig"
		return 0
	fi
	echo "FINDING in batch $b ($mode_txt): $sig"
	mkdir "$out/rep-$(echo "$sig" | md5sum | cut -c1-12)" 2> /dev/null || return 1   # one per bug
	mkdir -p "$out/batch$b"; name=$out/batch$b/fuzz-s$seed-$j
	cp "$d/set.pcapng" "$name.pcapng"; cp "$d/err" "$name.err"
	local f; for f in "$@"; do
		j=${f##*/m}; j=${j%.pcapng}
		echo "test/robustness/mutate.py $seed $j $(sed -n "$(( j % ncorp + 1 ))p" "$tmp/corpus") m$j.pcapng $notshift"
	done > "$name.cmd"
	[ $# = 1 ] || echo "mergecap -a -F pcapng -w OUT.pcapng m*.pcapng (in this order)" >> "$name.cmd"
	printf 'IKESTATE_SO=SANITIZED.so test/tshark-plugin.sh %s.pcapng%s\n' "${name##*/}" "$(printf " %q" "${mode[@]}")" >> "$name.cmd"
	echo "  reproducer $name.pcapng ($mode_txt): $sig"
	return 1
}
# dissect FILE ERR ARGS...: 0 clean; 1 a finding (sanitizer report, or a dissector bug / abnormal
# exit that stock tshark does not have on the same file); 2 stock tshark has the same. Without
# WIRESHARK_ABORT_ON_DISSECTOR_BUG a dissector bug is caught per packet and logged with its
# protocol and frame ("Dissector bug, protocol P, in packet N: ..."), and tshark goes on: ours is a
# line stock tshark does not log. (With the abort, each of Wireshark's own bugs in the corpus, about
# six per 3,000 mutations, stopped the run and cost some twenty runs of halving.) Sets dissect_rc.
dissect() {
	local f=$1 err=$2 rc=0; shift 2
	IKESTATE_SO=$so IKESTATE_CHECK_LOADED=0 WIRESHARK_ABORT_ON_DISSECTOR_BUG=0 \
		"$rob_here/../tshark-plugin.sh" "$f" "$@" > /dev/null 2> "$err" || rc=$?
	dissect_rc=$rc
	grep -qE 'Sanitizer|runtime error:' "$err" && return 1
	[ $rc = 0 ] && ! grep -qE "$rob_finding_re" "$err" && return 0
	local src=0
	rob_stock -r "$f" "$@" > /dev/null 2> "$err.stock" || src=$?
	# The findings logged, without the logger's process id and time.
	reports() { grep -E "$rob_finding_re" "$1" | sed -E 's/^.*\] -- //' | sort -u; }
	if [ $rc = "$src" ] && [ -z "$(comm -23 <(reports "$err") <(reports "$err.stock"))" ]; then return 2; fi
	echo "exit $rc, stock tshark $src" >> "$err"
	return 1
}
# The first frame of the report that is ours, e.g. "ike_fsm.c:123 in iks_parse".
signature() {
	grep -m1 -E 'runtime error|ERROR: AddressSanitizer|[Dd]issector bug|failed assertion|exit [0-9]+, stock' "$1" |
		sed -E 's/(runtime error).*/\1/; s/(AddressSanitizer: [a-z-]+).*/\1/; s/^==[0-9]+==//' |
		sed -E 's/^.*\] -- //; s/, in packet [0-9]+//' | cut -c1-200 || echo "?"
}
export -f run_batch settle dissect signature rob_stock
export tmp so seed batch count ncorp notshift rob_here rob_finding_re
out=${IKESTATE_FUZZ_OUT:-}
[ -n "$out" ] || out=$(mktemp -d /tmp/ikestate-findings.XXXXXX)
mkdir -p "$out"; export out

nb=$(( (count + batch - 1) / batch ))
t0=$SECONDS
echo "mutation fuzzing: $count captures from $ncorp corpus captures, seed $seed, $nb batches of $batch, $jobs jobs"
# timeout bounds the run; batches not started by then are simply not done (reported below).
seq 0 $((nb - 1)) | timeout "$max_s" xargs -P "$jobs" -I{} bash -c 'run_batch "$1"' _ {} | tee "$tmp/log" || true
done_n=$( (cat "$tmp"/b*/done 2> /dev/null || true) | awk '{s += $1} END {print s + 0}')
secs=$(( SECONDS - t0 ))
echo "mutation fuzzing: $done_n mutated captures in $secs s ($(( done_n / (secs > 0 ? secs : 1) ))/s), seed $seed"
if grep -q '^FINDING' "$tmp/log"; then
	echo "FAIL: $(grep -c '^FINDING' "$tmp/log") failing captures or sets of them, distinct findings:"
	sed -n 's/^FINDING in batch [0-9]* ([^)]*): //p' "$tmp/log" | sort | uniq -c
	echo "reproducers (the mutated capture alone; .cmd has the mutate.py command, .err the report):"
	grep -h '^  reproducer' "$tmp/log"
	exit 1
fi
rmdir "$out" 2> /dev/null || true
[ "$done_n" -ge "$count" ] || { echo "FAIL: only $done_n of $count captures mutated and dissected within ${max_s} s (see mutate.py's messages above)"; exit 1; }
