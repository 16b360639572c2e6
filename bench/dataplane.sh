#!/usr/bin/env bash
# bench/dataplane.sh -- weft's data plane beside the peer tunnels, in one run (a benchmark, not a
# test). Uses the two-namespace topology of ../shared/bench/peers.sh: for every path, iperf3 TCP
# with 1 and 4 streams, ping RTT and the CPU seconds of the tunnel daemons; weft once per capture
# backend (weft-tap, weft-pcap). Everything runs again with LOSS_PCT=1 (1 % random loss on the
# underlay, each direction). Writes a generated block into bench/RESULTS.md with the tables and
# the ratios of weft against every peer. See bench/README.md.
#
# Usage (root):  bench/dataplane.sh [options]
#   --paths LIST    comma-separated (default: weft-tap,weft-pcap,raw,vxlan,wireguard-go,tinc,
#                   nebula,fastd,openvpn; peers that are not installed report FAIL:not-installed)
#   --loss LIST     loss percentages to run (default: 0,1)
#   --time S        iperf3 seconds per measurement (default: 10)
#   --results PATH  where the generated block goes (default: bench/RESULTS.md; - for stdout only)
#   --profile S     instead of the table: run weft-tap with one iperf3 stream for S seconds under
#                   `perf record -a -g` and print where the CPU time goes (perf report)
# Environment: WEFT_BUILD (default: build/ of this checkout), PEERS_SH (default:
# ../shared/bench/peers.sh next to the repository), BENCH_NS1/BENCH_NS2 (namespace names;
# default: unique per run, so that runs of other worktrees can go side by side).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEFT_BUILD=${WEFT_BUILD:-$REPO/build}
PEERS_SH=${PEERS_SH:-$REPO/../shared/bench/peers.sh}
paths=weft-tap,weft-pcap,raw,vxlan,wireguard-go,tinc,nebula,fastd,openvpn
losses=0,1
iperf_time=10
results=$REPO/bench/RESULTS.md
profile=0
while (($#)); do
    case $1 in
        --paths) paths=$2; shift 2 ;;
        --loss) losses=$2; shift 2 ;;
        --time) iperf_time=$2; shift 2 ;;
        --results) results=$2; shift 2 ;;
        --profile) profile=$2; shift 2 ;;
        -h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $(id -u) == 0 ]] || { echo "must run as root" >&2; exit 1; }
[[ -x $WEFT_BUILD/weft && -x $WEFT_BUILD/weft-router ]] || {
    echo "no weft build in $WEFT_BUILD (run scripts/build)" >&2
    exit 1
}

export BENCH_NS1=${BENCH_NS1:-wdp$$a} BENCH_NS2=${BENCH_NS2:-wdp$$b}
export IPERF_TIME=$iperf_time
export PATH=$WEFT_BUILD:$PATH
# shellcheck source=/dev/null
source "$PEERS_SH"

# weft in each host namespace: launch (h2 joins h1), then give the host its overlay address.
# shellcheck disable=SC2016
weft_cmd() {
    echo 'd=$BH_DIR/weft; mkdir -p $d; weft --datadir $d launch --nickname $BH_HOST'\
' --password bench-secret-123 --ipalloc-range 10.200.7.0/24 --capture '"$1"\
' $([ "$BH_HOST" = h2 ] && echo $BH_PEER_UL) && weft --datadir $d expose $BH_SELF_IP/$BH_PREFIX'
}

run_one() {   # run_one PATH -> one result line (peers.sh format)
    case $1 in
        weft-tap | weft-pcap)
            local b=${1#weft-}
            (
                WEFT_CMD=$(weft_cmd "$b")
                topo_up
                overlay_path "$1" 10.200.7.1 10.200.7.2 "$WEFT_CMD"
            ) || result_line "$1" status="FAIL:script-error"
            topo_down
            ;;
        *) run_path "$1" ;;
    esac
}

if ((profile > 0)); then
    command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 1; }
    bench_init
    topo_up
    start_in_ns "$NS1" h1 10.200.7.1 10.200.7.2 "$UL1" "$UL2" "$UL_DEV1" "$WORK/p/h1" "$(weft_cmd tap)"
    start_in_ns "$NS2" h2 10.200.7.2 10.200.7.1 "$UL2" "$UL1" "$UL_DEV2" "$WORK/p/h2" "$(weft_cmd tap)"
    wait_reachable 10.200.7.2 "$UP_TIMEOUT" || { log "weft did not come up"; exit 1; }
    sleep 1
    ip netns exec "$NS2" iperf3 -s -1 -B 10.200.7.2 -p "$IPERF_PORT" >/dev/null 2>&1 &
    sleep 0.5
    ip netns exec "$NS1" iperf3 -c 10.200.7.2 -p "$IPERF_PORT" -t $((profile + 2)) >"$WORK/iperf.txt" 2>&1 &
    sleep 1
    # Each router's share of one core while the stream runs: a single-threaded router near 100 %
    # would be the bottleneck (then a thread per direction would pay off).
    mapfile -t routers < <(for ns in "$NS1" "$NS2"; do for pid in $(ns_pids "$ns"); do
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == weft-router ]] && echo "$pid"; done; done)
    declare -A t0
    for pid in "${routers[@]}"; do t0[$pid]=$(cpu_ticks "$pid"); done
    perf record -q -a -g -o "$WORK/perf.data" -- sleep "$profile" >/dev/null 2>&1
    for pid in "${routers[@]}"; do
        echo "weft-router $pid ($(ip netns identify "$pid")): $(awk -v t=$(($(cpu_ticks "$pid") - t0[$pid])) \
            -v hz="$CLK_TCK" -v s="$profile" 'BEGIN{printf "%.0f", 100 * t / hz / s}') % of one core"
    done
    wait
    tail -n 4 "$WORK/iperf.txt" >&2
    echo "## by process (share of all CPU samples on the machine)"
    perf report -i "$WORK/perf.data" --no-children --sort comm --stdio 2>/dev/null |
        grep -E '^ +[0-9]' | head -12
    echo "## weft-router, by library (share of all samples)"
    perf report -i "$WORK/perf.data" --no-children --comm weft-router --sort dso --stdio \
        -g none 2>/dev/null | grep -E '^ +[0-9]' | head -8
    echo "## weft-router, by symbol (share of all samples)"
    perf report -i "$WORK/perf.data" --no-children --comm weft-router --sort dso,sym --stdio \
        -g none 2>/dev/null | grep -E '^ +[0-9]' | head -30
    exit 0
fi

bench_init
OUT=$WORK/results.txt
IFS=, read -r -a path_list <<<"$paths"
IFS=, read -r -a loss_list <<<"$losses"
BASE_WORK=$WORK
for loss in "${loss_list[@]}"; do
    export LOSS_PCT=$loss
    # The peer paths keep keys and configs under $WORK/<path>: a fresh directory per loss setting.
    WORK=$BASE_WORK/loss-$loss
    mkdir -p "$WORK"
    for p in "${path_list[@]}"; do
        log "=== $p (loss $loss %)"
        line=$(run_one "$p" | tail -n 1)
        echo "$line"
        echo "loss=$loss $line" >>"$OUT"
    done
done
WORK=$BASE_WORK   # removed on exit, with everything under it

# ---------------------------------------------------------------- report

# field KEY LINE -> value of KEY=... in a result line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
lookup() {   # lookup LOSS PATH KEY
    local l
    l=$(grep -E "^loss=$1 path=$2 " "$OUT" | tail -n 1) || true
    [[ -n $l ]] && field "$3" "$l" || echo NA
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "NA" || b == "NA" || b + 0 == 0) print "–"; else printf "%.2f×", a / b }'; }
per_core() { awk -v m="$1" -v c="$2" -v t="$iperf_time" 'BEGIN{ if (m == "NA" || c == "NA" || c + 0 == 0) print "kernel"; else printf "%.0f", m / (c / t) }'; }

userspace_encrypted=(wireguard-go tinc nebula fastd openvpn)

report() {
    local loss p status
    echo "Generated by \`bench/dataplane.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, kernel $(uname -r)," \
        "iperf3 ${iperf_time} s, overlay MTU ${OVERLAY_MTU}; the machine's cores are shared by both" \
        "daemons, iperf3 and ping, and with whatever else runs on it)."
    for loss in "${loss_list[@]}"; do
        echo
        if [[ $loss == 0 ]]; then echo "**No loss**"; else echo "**${loss} % random loss on the underlay** (\`LOSS_PCT=$loss\`)"; fi
        echo
        echo "| path | TCP 1 stream Mb/s | retransmits | TCP 4 streams Mb/s | RTT ms | daemon CPU s (1 stream) | Mb/s per daemon core | status |"
        echo "|---|---:|---:|---:|---:|---:|---:|---|"
        for p in "${path_list[@]}"; do
            status=$(lookup "$loss" "$p" status)
            [[ $status == NA ]] && continue
            local t1 c1
            t1=$(lookup "$loss" "$p" tcp1_mbps)
            c1=$(lookup "$loss" "$p" daemon_cpu_s)
            echo "| $p | $t1 | $(lookup "$loss" "$p" tcp1_retr) | $(lookup "$loss" "$p" tcp4_mbps) |" \
                "$(lookup "$loss" "$p" rtt_ms) | $c1 | $(per_core "$t1" "$c1") | $status |"
        done
    done
    local w
    for w in weft-tap weft-pcap; do
        [[ " ${path_list[*]} " == *" $w "* ]] || continue
        echo
        echo "**$w against each peer** (weft ÷ peer in the same run; RTT: lower is better)"
        echo
        local hdr="| peer | TCP 1 stream | TCP 4 streams | RTT"
        local sep="|---|---:|---:|---:"
        for loss in "${loss_list[@]}"; do
            [[ $loss == 0 ]] && continue
            hdr+=" | TCP 1 stream, ${loss} % loss | TCP 4 streams, ${loss} % loss"
            sep+="|---:|---:"
        done
        echo "$hdr |"
        echo "$sep|"
        for p in "${path_list[@]}"; do
            [[ $p == weft-* ]] && continue
            local row
            row="| $p | $(ratio "$(lookup 0 "$w" tcp1_mbps)" "$(lookup 0 "$p" tcp1_mbps)")"
            row+=" | $(ratio "$(lookup 0 "$w" tcp4_mbps)" "$(lookup 0 "$p" tcp4_mbps)")"
            row+=" | $(ratio "$(lookup 0 "$w" rtt_ms)" "$(lookup 0 "$p" rtt_ms)")"
            for loss in "${loss_list[@]}"; do
                [[ $loss == 0 ]] && continue
                row+=" | $(ratio "$(lookup "$loss" "$w" tcp1_mbps)" "$(lookup "$loss" "$p" tcp1_mbps)")"
                row+=" | $(ratio "$(lookup "$loss" "$w" tcp4_mbps)" "$(lookup "$loss" "$p" tcp4_mbps)")"
            done
            echo "$row |"
        done
    done
    # The issue's targets: against the best userspace encrypted peer of the same run.
    for loss in "${loss_list[@]}"; do
        local best="" best_v=0 v
        for p in "${userspace_encrypted[@]}"; do
            v=$(lookup "$loss" "$p" tcp1_mbps)
            [[ $v == NA ]] && continue
            if awk -v a="$v" -v b="$best_v" 'BEGIN{exit !(a > b)}'; then best=$p best_v=$v; fi
        done
        [[ -z $best ]] && continue
        echo
        echo "Best userspace encrypted peer at ${loss} % loss: **$best** ($best_v Mb/s, RTT $(lookup "$loss" "$best" rtt_ms) ms)." \
            "weft-tap: $(ratio "$(lookup "$loss" weft-tap tcp1_mbps)" "$best_v") single stream" \
            "(target ≥ $([[ $loss == 0 ]] && echo 4 || echo 2)×), RTT $(lookup "$loss" weft-tap rtt_ms) ms."
    done
}

block=$(report)
echo "$block"
if [[ $results != - ]]; then
    begin='<!-- bench_dataplane:begin (generated by bench/dataplane.sh; edits inside are overwritten) -->'
    end='<!-- bench_dataplane:end -->'
    printf '%s\n' "$block" >"$WORK/block.md"
    if grep -qF "$end" "$results" 2>/dev/null; then
        awk -v b="$begin" -v e="$end" -v f="$WORK/block.md" '
            index($0, "<!-- bench_dataplane:begin") == 1 { print b; while ((getline l < f) > 0) print l; skip = 1; next }
            index($0, e) == 1 { skip = 0 }
            !skip' "$results" >"$WORK/results.new"
    else
        { cat "$results" 2>/dev/null; printf '\n%s\n%s\n%s\n' "$begin" "$block" "$end"; } >"$WORK/results.new"
    fi
    cat "$WORK/results.new" >"$results"
    log "wrote the generated block into $results"
fi
