#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer targets with clang in build-fuzz and runs each one on its
# seed corpus for FUZZ_SECONDS (default 20). Fails if any target crashes, leaks, trips ASan/UBSan,
# breaks one of its oracles or times out on an input.
#
#   tests/fuzz/run-smoke.sh                          every target
#   FUZZ_SECONDS=300 tests/fuzz/run-smoke.sh mesh_message peer_hello
#
# Environment: FUZZ_SECONDS (per target), FUZZ_PARALLEL (targets at once, default nproc), BUILD_DIR (default <repo>/build-fuzz), CXX (default
# clang++), FUZZ_JOBS (ninja -j). Inputs that found new coverage go to tests/fuzz/corpus-out/<target>/
# (git-ignored; the seeds in tests/fuzz/corpus/ are only read), crashing inputs to
# tests/fuzz/corpus-out/crash-<target>-*, and each run's log to tests/fuzz/corpus-out/<target>.log.
# Reproduce a crash: build-fuzz/tests/fuzz/fuzz_<target> <crash file>
# Regenerate the seeds: build-fuzz/tests/fuzz/fuzz_make_corpus tests/fuzz/corpus
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
cxx=${CXX:-clang++}
all=(control_channel mesh_message topology_message peer_hello datagram frame_batch gso inner_frame
  ipam_message dns_message cni_config state_message policy_documents blocked_packet)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

die() {
  echo "run-smoke: $*" >&2
  exit 2
}

command -v "$cxx" >/dev/null || die "$cxx not found (apt-get install clang)"
command -v cmake >/dev/null || die "cmake not found"
command -v ninja >/dev/null || die "ninja not found"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/p.cpp"
"$cxx" -fsanitize=fuzzer "$probe/p.cpp" -o "$probe/p" 2>"$probe/err" ||
  die "$cxx cannot link -fsanitize=fuzzer; install the libFuzzer runtime (libclang-rt-14-dev): $(head -3 "$probe/err")"
for t in "${targets[@]}"; do
  [ -f "$here/fuzz_$t.cpp" ] || die "unknown target '$t' (have: ${all[*]})"
  [ -d "$here/corpus/$t" ] || die "no seed corpus $here/corpus/$t"
done

echo "== building fuzz targets in $build"
cmake -S "$root" -B "$build" -G Ninja -DWEFT_FUZZ=ON -DWEFT_WERROR=ON -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
ninja -C "$build" ${FUZZ_JOBS:+-j "$FUZZ_JOBS"} "${targets[@]/#/fuzz_}"

out="$here/corpus-out"
mkdir -p "$out"
# UBSan reports are recoverable by default; make them crashes so libFuzzer keeps the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# run_target T: one target's run; its report goes to $out/T.report, its status to $out/T.status.
run_target() {
  local t=$1 log="$out/$1.log" runs cov
  mkdir -p "$out/$t"
  {
    echo "== fuzz_$t for ${seconds}s"
    if "$build/tests/fuzz/fuzz_$t" -max_len=65536 -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
      "$out/$t" "$here/corpus/$t" >"$log" 2>&1; then
      runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
      cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
      echo "   ok: ${runs:-?} runs, ${cov:-no coverage line}, corpus $(find "$out/$t" -type f | wc -l) new inputs"
      echo 0 >"$out/$t.status"
    else
      echo "   FAILED (log: $log)"
      grep -E 'ERROR|SUMMARY|==[0-9]+==|Test unit written|runtime error' "$log" | head -20 || true
      echo 1 >"$out/$t.status"
    fi
  } >"$out/$t.report"
}

# Targets run FUZZ_PARALLEL at a time (default: one per core); each is single-threaded.
parallel=${FUZZ_PARALLEL:-$(nproc)}
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  rm -f "$out/$t.status"
  run_target "$t" &
done
wait
failed=()
for t in "${targets[@]}"; do
  cat "$out/$t.report"
  [ "$(cat "$out/$t.status" 2>/dev/null)" = 0 ] || failed+=("$t")
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "run-smoke: failing targets: ${failed[*]}" >&2
  exit 1
fi
echo "run-smoke: all ${#targets[@]} targets ran ${seconds}s without a failure"
