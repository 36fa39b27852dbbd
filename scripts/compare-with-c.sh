#!/usr/bin/env bash
# Build the article's C programs and compare them with the Rust ports.
#
#   scripts/compare-with-c.sh [--article PATH|URL] [--runs N] [PROGRAM...]
#
# PROGRAM: any of the six (default: all six). For each, the C is cut out
# of the article's text, built with gcc -O2 in a temporary directory (never
# in the repository) and run against our release build:
#
#   racing_*          wall time per run, and shm_p over --runs runs
#                     (min, median, max) for both
#   *_mem, *_huge     wall time and minor page faults; the C with its
#                     sleep(3000) taken out, ours with --hold 0. 2046 MiB
#                     each, as in the article
#
# The article ("Linux进程间通信-共享内存", by Zorro) is read from --article
# (or $ARTICLE): a saved copy of its Markdown, or a URL to download it from.
# Default: the Markdown source on GitHub, see README.md ("The article").
# xsi_shm_mem_huge.c is not printed whole in the article; like the article
# says, it is xsi_shm_mem.c with SHM_HUGETLB added to shmget. Comparing it
# needs root, to reserve huge pages for the C (given back on every exit).
#
# Needs: cargo, gcc, awk, /usr/bin/time; curl when --article is a URL.
# Run it on a quiet machine: timings are shared with everything running.
set -euo pipefail
cd "$(dirname "$0")/.."

url=https://raw.githubusercontent.com/zorrozou/zorrozou.github.io/master/docs/books/linuxjin-cheng-jian-tong-4fe1-gong-xiang-nei-cun.md
article=${ARTICLE:-$url}
runs=${RUNS:-20}
all=(racing_mmap racing_xsi_shm racing_posix_shm mmap_mem xsi_shm_mem xsi_shm_mem_huge)
programs=()
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        --article) article=${2:?--article needs a path or URL}; shift 2 ;;
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "compare-with-c.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *)
            case " ${all[*]} " in
                *" $1 "*) programs+=("$1") ;;
                *) echo "compare-with-c.sh: no program $1; pick from: ${all[*]}" >&2; exit 2 ;;
            esac
            shift ;;
    esac
done
[ ${#programs[@]} -gt 0 ] || programs=("${all[@]}")
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "compare-with-c.sh: --runs wants a whole number from 1, not '$runs'" >&2; exit 2; }

# --- What it needs, checked before anything is built or downloaded ----------
missing=()
for tool in cargo gcc awk; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -x /usr/bin/time ] || missing+=("/usr/bin/time (Debian: apt-get install time)")
case $article in
    http://*|https://*) command -v curl >/dev/null || missing+=("curl, to download $article (or pass --article with a saved copy)") ;;
    *) [ -r "$article" ] || missing+=("the article: $article cannot be read (pass --article PATH or URL)") ;;
esac
if [ ${#missing[@]} -gt 0 ]; then
    echo "compare-with-c.sh needs:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 2
fi
if [[ " ${programs[*]} " == *" xsi_shm_mem_huge "* ]] && [ "$(id -u)" != 0 ]; then
    echo "compare-with-c.sh: xsi_shm_mem_huge is left out: it needs root, to reserve huge pages for the C" >&2
    programs=("${programs[@]/xsi_shm_mem_huge}")
fi

work=$(mktemp -d /tmp/shm-article-c.XXXXXX)
old_pages=$(cat /proc/sys/vm/nr_hugepages)
cleanup() {
    # Give back any huge pages reserved for the C, whatever stopped us.
    if [ "$(cat /proc/sys/vm/nr_hugepages)" != "$old_pages" ] && [ "$(id -u)" = 0 ]; then
        echo "$old_pages" > /proc/sys/vm/nr_hugepages
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

case $article in
    http://*|https://*)
        curl -fsSL --max-time 60 -o "$work/article.md" "$article" || {
            echo "compare-with-c.sh: could not download $article; save the article and pass --article PATH" >&2
            exit 1
        }
        article=$work/article.md ;;
esac

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

c_source() {
    case $1 in
        xsi_shm_mem_huge) extract xsi_shm_mem | sed 's/shmget(IPC_PRIVATE, MEMSIZE, 0600)/shmget(IPC_PRIVATE, MEMSIZE, SHM_HUGETLB|0600)/' ;;
        *) extract "$1" ;;
    esac | case $1 in
        *_mem|*_huge) sed '/sleep(3000);/d' ;;
        *) cat ;;
    esac
}

# Wall time of one run of "$@", in milliseconds.
millis() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# "min median max" of numbers on stdin.
spread() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print v[1], m, v[NR] }'; }

packages=()
for p in "${programs[@]}"; do [ -n "$p" ] && packages+=(-p "$p"); done
cargo build --release --quiet "${packages[@]}"

for p in "${programs[@]}"; do
    [ -n "$p" ] || continue
    c_source "$p" > "$work/$p.c"
    if ! grep -q 'main' "$work/$p.c"; then
        echo "compare-with-c.sh: no C program $p.c found in $article" >&2
        exit 1
    fi
    gcc -O2 -w -o "$work/$p" "$work/$p.c" -lrt
    c=$work/$p
    ours=target/release/$p
    echo "== $p: the article's C (gcc -O2) against ours (release)"
    case $p in
        racing_*)
            for impl in "$c" "$ours"; do
                times=$(for _ in $(seq "$runs"); do millis "$impl"; done | spread)
                counts=$(for _ in $(seq "$runs"); do "$impl" 2>/dev/null; done | awk '{print $2}' | spread)
                printf '%-40s ms per run (min median max): %-14s shm_p (min median max): %s\n' "$impl" "$times" "$counts"
            done ;;
        *)
            memory_runs=$(( runs < 3 ? runs : 3 ))
            for impl in "$c" "$ours"; do
                args=()
                [ "$impl" = "$ours" ] && args=(--hold 0)
                [ "$impl" = "$ours" ] && [ "$p" = xsi_shm_mem_huge ] && args+=(--reserve)
                lines=$(for _ in $(seq "$memory_runs"); do
                    if [ "$impl" = "$c" ] && [ "$p" = xsi_shm_mem_huge ]; then
                        echo $((old_pages + 1023)) > /proc/sys/vm/nr_hugepages
                    fi
                    /usr/bin/time -f '%e %R' "$impl" "${args[@]}" 2>&1 >/dev/null | tail -1
                    if [ "$impl" = "$c" ] && [ "$p" = xsi_shm_mem_huge ]; then
                        echo "$old_pages" > /proc/sys/vm/nr_hugepages
                    fi
                done)
                secs=$(awk '{print $1}' <<<"$lines" | spread)
                faults=$(awk '{print $2}' <<<"$lines" | spread)
                printf '%-40s s per run (min median max): %-14s minor faults: %s\n' "$impl ${args[*]}" "$secs" "$faults"
            done ;;
    esac
done
