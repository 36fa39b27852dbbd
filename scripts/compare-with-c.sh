#!/usr/bin/env bash
# Build the article's C programs (with gcc -O2, in a temporary directory,
# never in the repository) and compare them with the Rust ports:
# wall time with hyperfine, and the spread of `shm_p` over 20 runs.
#
#   scripts/compare-with-c.sh [PROGRAM...]     default: racing_mmap
#
# Needs gcc and hyperfine (Debian: apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."

article=${ARTICLE:-../shared/article/000_c349b1f76a62885c.txt}
programs=("${@:-racing_mmap}")
runs=${RUNS:-20}
work=$(mktemp -d /tmp/shm-article-c.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Each C program follows a shell line `... cat NAME.c` in the article and is
# indented with a tab (or 4 spaces); it ends at the next prompt or text line.
extract() {
    awk -v want="cat $1.c" '
        index($0, want) { on = 1; next }
        on && /(\]\$|\]#) / { exit }
        on && /^(\t|    |$)/ { sub(/^(\t|    )/, ""); print; next }
        on { exit }
    ' "$article"
}

packages=()
for p in "${programs[@]}"; do packages+=(-p "$p"); done
cargo build --release --quiet "${packages[@]}"
for p in "${programs[@]}"; do
    extract "$p" > "$work/$p.c"
    gcc -O2 -w -o "$work/$p" "$work/$p.c" -lrt
    echo "== $p: wall time, C (gcc -O2) vs Rust (release)"
    hyperfine -N --warmup 3 --runs 30 "$work/$p" "target/release/$p"
    for impl in "$work/$p" "target/release/$p"; do
        printf '%s shm_p over %d runs: ' "$impl" "$runs"
        for _ in $(seq "$runs"); do "$impl" 2>/dev/null; done | awk '{print $2}' | sort -n | tr '\n' ' '
        echo
    done
done
