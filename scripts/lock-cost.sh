#!/usr/bin/env bash
# What each --lock mode costs: wall time of every racing program in every
# mode, with hyperfine, at --count 1000 --sleep-us 0 (the lock's own cost)
# and at the default --count 100 --sleep-us 1 (the article's run).
#
#   scripts/lock-cost.sh            prints a markdown table per setting
#   RUNS=20 scripts/lock-cost.sh    more runs per cell (default 10)
#
# Needs hyperfine (Debian: apt-get install hyperfine). Runs the release
# build, under the machine-wide lock the tests take, so a test run and this
# script never share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v hyperfine >/dev/null || {
    echo "lock-cost.sh needs hyperfine (Debian: apt-get install hyperfine; or cargo install hyperfine)" >&2
    exit 2
}
runs=${RUNS:-10}
programs=(racing_mmap racing_xsi_shm racing_posix_shm)
modes=(none atomic flock semaphore)
out=$(mktemp -d /tmp/lock-cost.XXXXXX)
trap 'rm -rf "$out"' EXIT

cargo build --release --quiet -p racing_mmap -p racing_xsi_shm -p racing_posix_shm

for setting in "--count 1000 --sleep-us 0" "--count 100 --sleep-us 1"; do
    echo "### $setting ($runs runs each, mean ± σ)"
    echo
    printf '| program |'; printf ' %s |' "${modes[@]}"; echo
    printf '|---|'; printf -- '---:|%.0s' "${modes[@]}"; echo
    for p in "${programs[@]}"; do
        printf '| %s |' "$p"
        for m in "${modes[@]}"; do
            json="$out/$p-$m.json"
            scripts/with-machine-lock.sh \
                hyperfine -N --warmup 2 --runs "$runs" --export-json "$json" --style none \
                "target/release/$p $setting --lock $m" >/dev/null 2>&1
            python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f" {r['mean']*1000:.1f} ± {r['stddev']*1000:.1f} ms |", end="")
PY
        done
        echo
    done
    echo
done
