#!/usr/bin/env bash
# Benchmark: `sopsfleet check` against a loop of `sops filestatus` over the
# same generated repository (see bench/check/main.go). Not a test: it prints
# wall times, files/s, peak memory and the ratio.
#
#   bench/check.sh [-files N] [-sample N] [-runs N] [-keep]
#
# The sops loop runs over -sample files (default 200, taken evenly across the
# sorted list so every format is in it) and is extrapolated to all files: one
# sops process per file costs about the same for every file. SOPSFLEET=path
# uses a sopsfleet binary already built instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
files=5000 sample=200 runs=5 keep=
while [ $# -gt 0 ]; do
  case $1 in
    -files) files=$2; shift 2 ;;
    -sample) sample=$2; shift 2 ;;
    -runs) runs=$2; shift 2 ;;
    -keep) keep=1; shift ;;
    *) echo "usage: bench/check.sh [-files N] [-sample N] [-runs N] [-keep]" >&2; exit 2 ;;
  esac
done
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
work=$(mktemp -d)
if [ -z "$keep" ]; then trap 'rm -rf "$work"' EXIT; else echo "keeping $work" >&2; fi
echo "building sopsfleet and sops (the version pinned in go.mod)…" >&2
mkdir -p "$work/bin"
if [ -n "${SOPSFLEET:-}" ]; then cp "$SOPSFLEET" "$work/bin/sopsfleet"; else go build -o "$work/bin/sopsfleet" ./cmd/sopsfleet; fi
go build -o "$work/bin/sops" github.com/getsops/sops/v3/cmd/sops
echo "generating $files encrypted files…" >&2
go run ./bench/check -dir "$work/repo" -files "$files" -sops "$work/bin/sops"
cd "$work/repo"
n=$(find secrets -type f | wc -l)

# sopsfleet check: best of $runs runs, peak RSS of the best.
best= rss= cpu=
for _ in $(seq "$runs"); do
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$work/bin/sopsfleet" check >"$work/out" 2>"$work/err" || true
  read -r secs kb usr sys < <(tail -n 1 "$work/time")
  if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs rss=$kb cpu=$(awk "BEGIN{print $usr + $sys}"); fi
done
tail -1 "$work/err" >&2

# sops filestatus, one process per file, over a sample.
find secrets -type f | sort | awk -v n="$n" -v k="$sample" 'NR % int(n / k) == 1' | head -n "$sample" >"$work/sample"
start=$(date +%s.%N)
while read -r f; do
  "$work/bin/sops" filestatus "$f" >/dev/null
done <"$work/sample"
end=$(date +%s.%N)
m=$(wc -l <"$work/sample")

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v cpu="$cpu" -v runs="$runs" -v n="$n" -v best="$best" -v rss="$rss" -v m="$m" -v s="$start" -v e="$end" 'BEGIN {
  loop = e - s; per = loop / m; full = per * n
  if (best < 0.01) best = 0.01
  printf "files:                      %d\n", n
  printf "sopsfleet check:            %.2f s wall (best of %d runs), %.0f files/s, peak RSS %.1f MB\n", best, runs, n / best, rss / 1024
  printf "  CPU time (user+sys):      %.2f s\n", cpu
  printf "sops filestatus loop:       %.2f s for %d files (%.1f ms/file), %.1f s extrapolated to %d files\n", loop, m, per * 1000, full, n
  printf "speed-up:                   %.0fx\n", full / best
}'
