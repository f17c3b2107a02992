#!/usr/bin/env bash
# Benchmark for issue #6: cost of ikestate over stock tshark, and of a Lua peer doing the same
# core labelling (bench/ikestate-peer.lua). Not part of the default test run: it takes minutes
# (about an hour with the defaults on a loaded 2-core machine) and its numbers depend on the machine.
#
#   bench/run-bench.sh [--sizes "10000 100000 1000000"] [--reps "5 5 3"] [--workloads "plain two filter fields keys"]
#                      [--variant NAME=/path/to/ikestate.so]... [--no-lua] [--keep DIR] [--instructions]
#
# --instructions: also, per size and workload, each variant once under callgrind on the capture and
# on its first frame alone: the marginal instructions per frame ((N-frame run - 1-frame run) / (N-1):
# start-up cancels), the figure to trust on a VM whose wall time wanders by 15-30 %. An IKE-only
# capture: BENCH_IKE_PERCENT=100.
#
# Environment: IKESTATE_SO (default: a Release build of this checkout in a scratch dir), IKEGEN
# (default: the ikegen of that build), BENCH_SEED (ikegen --mix seed, default 1), BENCH_IKE_PERCENT
# (ikegen --mix --ike-percent: share of packets in IKE flows, default 60 = about 50 % ISAKMP frames),
# BENCH_ESP_PACKETS (ikegen --mix --esp-packets: ESP packets per established tunnel), BENCH_FLOOD=1
# (the capture is `ikegen --flood N` instead: N MM1 with distinct cookies, the cookie flood;
# BENCH_FLOOD_RATE: its cookies a second, default 100000: a head-end's day is a few a second),
# BENCH_KEY_ROW (the IKEv1 decryption-table row of the `keys` workload: plain `-r` with a key table
# loaded, as when an analyst has keys for one tunnel; default lab-mm-ok's row).
#
# Every variant runs tshark 4.0 as nobody with the same environment (WIRESHARK_PLUGIN_DIR set for
# all, an empty plugin dir for stock and Lua), on the same world-readable copy of the capture,
# output to /dev/null. Runs alternate ABCD, BCDA, … so background load hits all variants alike; the
# 1-minute load average is recorded with every run. Prints a table of median ratios vs stock and
# keeps the raw results (runs.tsv) in the work dir when --keep is given.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
sizes="10000 100000 1000000"
reps="5 5 3"
workloads="plain two filter fields"
lua=1
keep=
instr=0
variants=()
while [ $# -gt 0 ]; do
	case $1 in
	--sizes) sizes=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--variant) variants+=("$2"); shift 2 ;;
	--no-lua) lua=0; shift ;;
	--keep) keep=$2; shift 2 ;;
	--instructions) instr=1; shift ;;
	*) echo "usage: see the header of $0" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "run-bench.sh: run as root (tshark is run as nobody via setpriv)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run-bench.sh: needs GNU time (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d /tmp/ikestate-bench.XXXXXX)
if [ -n "$keep" ]; then trap 'mkdir -p "$keep" && cp "$work"/runs.tsv "$work"/summary.md "$work"/instructions.tsv "$keep"/ 2>/dev/null; rm -rf "$work"' EXIT
else trap 'rm -rf "$work"' EXIT; fi

# A Release build, outside the checkout's build/, so we measure what users get (-O3 -DNDEBUG).
if [ -z "${IKESTATE_SO:-}" ] || [ -z "${IKEGEN:-}" ]; then
	cmake -S "$repo" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >"$work/build.log" 2>&1
	cmake --build "$work/build" -j"$(nproc)" >>"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; exit 1; }
fi
IKESTATE_SO=${IKESTATE_SO:-$work/build/plugins/4.0/epan/ikestate.so}
IKEGEN=${IKEGEN:-$work/build/tools/ikegen/ikegen}

# Plugin dirs: one per variant, same layout (<dir>/4.0/epan/ikestate.so); stock and Lua get an empty one.
mkdir -p "$work/plugins/stock/4.0/epan" "$work/home"
names=(stock plugin)
mkdir -p "$work/plugins/plugin/4.0/epan" && cp "$IKESTATE_SO" "$work/plugins/plugin/4.0/epan/ikestate.so"
for v in "${variants[@]}"; do
	n=${v%%=*}
	mkdir -p "$work/plugins/$n/4.0/epan" && cp "${v#*=}" "$work/plugins/$n/4.0/epan/ikestate.so"
	names+=("$n")
done
if [ "$lua" = 1 ]; then cp "$here/ikestate-peer.lua" "$work/"; names+=(lua); fi
chmod -R a+rX "$work"; chmod a+rwx "$work/home"

tshark_as_nobody() { # plugin-dir-name tshark-args...
	local pd=$1; shift
	setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$work/home" TZ=UTC LC_ALL=C.UTF-8 \
		PATH=/usr/bin:/bin WIRESHARK_PLUGIN_DIR="$work/plugins/$pd" tshark "$@"
}
for n in "${names[@]}"; do
	case $n in stock|lua) continue ;; esac
	tshark_as_nobody "$n" -G plugins 2>/dev/null | grep -q '^ikestate\.so' || { echo "variant $n: plugin did not load" >&2; exit 3; }
done

# Workload arguments per variant. Stock has no ikestate fields, so its filter/fields workloads use
# isakmp fields with the same shape: a filter that needs the tree and matches (almost) nothing, and
# one text column on ISAKMP frames.
# The Lua peer labels no stalls: its filter is on its retransmission field (also needs the tree).
args_for() { # variant workload cap
	local v=$1 w=$2 cap=$3 f
	case $v in stock) f=isakmp ;; lua) f=ikelua ;; *) f=ikestate ;; esac
	local pre=()
	[ "$v" = lua ] && pre=(-X "lua_script:$work/ikestate-peer.lua")
	case $w in
	plain) echo "${pre[*]} -r $cap" ;;
	two) echo "${pre[*]} -2 -r $cap" ;;
	filter) if [ "$v" = stock ]; then echo "-r $cap -Y isakmp.ispi==00:00:00:00:00:00:00:01"
		elif [ "$v" = lua ]; then echo "${pre[*]} -r $cap -Y $f.retransmission"
		else echo "-r $cap -Y $f.stalled"; fi ;;
	fields) if [ "$v" = stock ]; then echo "-r $cap -T fields -e frame.number -e isakmp.exchangetype"
		else echo "${pre[*]} -r $cap -T fields -e frame.number -e $f.state"; fi ;;
	keys) echo "${pre[*]} -r $cap -o uat:ikev1_decryption_table:$key_row" ;;
	esac
}
key_row=${BENCH_KEY_ROW:-$(grep -v '^#' "$repo/test/captures/keys/lab-mm-ok.ikev1_decryption_table")}
case $key_row in *[[:space:]]*) echo "run-bench.sh: BENCH_KEY_ROW must have no spaces" >&2; exit 2 ;; esac
plugdir_for() { case $1 in lua) echo stock ;; *) echo "$1" ;; esac; }

printf 'size\tworkload\tvariant\trep\twall\tuser\tsys\tmaxrss_kb\tload1\n' >"$work/runs.tsv"
printf 'size\tframes\tworkload\tvariant\tinstructions\tinstructions_1frame\n' >"$work/instructions.tsv"
callgrind_of() { # variant workload capture -> instructions
	local v=$1 out=$work/home/cg.out   # written by nobody
	# shellcheck disable=SC2046
	setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$work/home" TZ=UTC LC_ALL=C.UTF-8 \
		PATH=/usr/bin:/bin WIRESHARK_PLUGIN_DIR="$work/plugins/$(plugdir_for "$v")" \
		valgrind --tool=callgrind --callgrind-out-file="$out" tshark $(args_for "$v" "$2" "$3") >/dev/null 2>&1
	awk '/^totals:/ { print $2 }' "$out"
	rm -f "$out"
}
read -r -a repv <<<"$reps"
i=0
for size in $sizes; do
	r=${repv[$i]:-${repv[-1]}}; i=$((i + 1))
	cap="$work/mix-$size.pcap"
	if [ "${BENCH_FLOOD:-0}" = 1 ]; then
		"$IKEGEN" --flood "$size" --seed "${BENCH_SEED:-1}" ${BENCH_FLOOD_RATE:+--rate "$BENCH_FLOOD_RATE"} "$cap" >/dev/null
	else
		"$IKEGEN" --mix "$size" --seed "${BENCH_SEED:-1}" ${BENCH_IKE_PERCENT:+--ike-percent "$BENCH_IKE_PERCENT"} \
			${BENCH_ESP_PACKETS:+--esp-packets "$BENCH_ESP_PACKETS"} "$cap" >/dev/null
	fi
	chmod a+r "$cap"
	cat "$cap" >/dev/null # page cache: no run pays the first read
	for w in $workloads; do
		# One untimed warm-up per variant (libraries, Lua compile, page cache of plugins).
		for v in "${names[@]}"; do
			# shellcheck disable=SC2046
			tshark_as_nobody "$(plugdir_for "$v")" $(args_for "$v" "$w" "$cap") >/dev/null 2>&1 || true
			[ "$size" -ge 1000000 ] && break # the 1M capture is too big to warm everything twice
		done
		for ((rep = 1; rep <= r; rep++)); do
			# Rotate the order each repetition: ABCD, BCDA, CDAB, …
			n=${#names[@]}
			for ((k = 0; k < n; k++)); do
				v=${names[$(((k + rep - 1) % n))]}
				load=$(cut -d' ' -f1 /proc/loadavg)
				# shellcheck disable=SC2046
				if ! /usr/bin/time -f '%e %U %S %M' -o "$work/t" \
					setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$work/home" TZ=UTC \
					LC_ALL=C.UTF-8 PATH=/usr/bin:/bin WIRESHARK_PLUGIN_DIR="$work/plugins/$(plugdir_for "$v")" \
					tshark $(args_for "$v" "$w" "$cap") >/dev/null 2>"$work/err"; then
					echo "run failed: $size $w $v: $(tail -2 "$work/t" | tr '\n' ' ')" >&2; cat "$work/err" >&2; exit 1
				fi
				read -r e u s m <"$work/t"
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$w" "$v" "$rep" "$e" "$u" "$s" "$m" "$load" >>"$work/runs.tsv"
				echo "$size $w $v rep $rep: wall $e user $u sys $s rss ${m}k load $load" >&2
			done
		done
	done
	if [ "$instr" = 1 ]; then
		editcap -r "$cap" "$work/one.pcap" 1 && chmod a+r "$work/one.pcap"
		frames=$(capinfos -M -c "$cap" | awk '/Number of packets/ { print $NF }')
		for w in $workloads; do
			for v in "${names[@]}"; do
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$frames" "$w" "$v" "$(callgrind_of "$v" "$w" "$cap")" \
					"$(callgrind_of "$v" "$w" "$work/one.pcap")" >>"$work/instructions.tsv"
				echo "$size $w $v: callgrind done" >&2
			done
		done
	fi
	rm -f "$cap"
done

# Medians per (size, workload, variant); ratios vs stock; CPU = user + sys.
awk -F'\t' 'NR > 1 { k = $1 SUBSEP $2 SUBSEP $3; n[k]++; W[k, n[k]] = $5; C[k, n[k]] = $6 + $7; R[k, n[k]] = $8; L[k, n[k]] = $9
	if (!(k in seen)) { seen[k] = 1; order[++no] = k } }
function med(A, k, c,   i, j, t, v) { for (i = 1; i <= c; i++) v[i] = A[k, i]
	for (i = 2; i <= c; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
	return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2 }
function mx(A, k, c,   i, m) { m = A[k, 1]; for (i = 2; i <= c; i++) if (A[k, i] > m) m = A[k, i]; return m }
END {
	print "| packets | workload | variant | runs | wall ratio | CPU ratio | peak RSS ratio | stock median wall (s) | peak RSS (MB) | load1 max |"
	print "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
	for (o = 1; o <= no; o++) { split(order[o], p, SUBSEP); k = order[o]; s = p[1] SUBSEP p[2] SUBSEP "stock"
		printf "| %d | %s | %s | %d | %.3f | %.3f | %.3f | %.2f | %.0f | %.2f |\n", p[1], p[2], p[3], n[k],
			med(W, k, n[k]) / med(W, s, n[s]), med(C, k, n[k]) / med(C, s, n[s]), med(R, k, n[k]) / med(R, s, n[s]),
			med(W, s, n[s]), med(R, k, n[k]) / 1024, mx(L, k, n[k]) } }' "$work/runs.tsv" | tee "$work/summary.md"
if [ "$instr" = 1 ]; then
	echo
	awk -F'\t' 'NR > 1 { k = $2 SUBSEP $3; m[k, $4] = ($5 - $6) / ($2 - 1); if (!(k in seen)) { seen[k] = 1; order[++no] = k }
		if (!($4 in vs)) { vs[$4] = 1; vo[++nv] = $4 } }
	END {
		print "| frames | workload | variant | marginal instructions per frame | ratio to stock | extra per frame |"
		print "|---:|---|---|---:|---:|---:|"
		for (o = 1; o <= no; o++) { split(order[o], p, SUBSEP); s = m[order[o], "stock"]
			for (i = 1; i <= nv; i++) { v = vo[i]; if (!((order[o], v) in m)) continue
				printf "| %d | %s | %s | %.0f | %.4f | %+.0f |\n", p[1], p[2], v, m[order[o], v], m[order[o], v] / s, m[order[o], v] - s } } }' \
		"$work/instructions.tsv" | tee -a "$work/summary.md"
fi
