#!/usr/bin/env bash
# Build the article's C programs and compare them with the Rust ports.
#
#   scripts/compare-with-c.sh [--article PATH|URL] [--runs N] [PROGRAM...]
#   scripts/compare-with-c.sh --paired [--article PATH|URL] [--runs N] [RACING...]
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
# --paired: a benchmark of the three racing programs (RACING: any of them,
# default all three). After one unmeasured run of each, the C and ours run
# alternately, --runs pairs of them (default 30), the first of each pair
# swapped every pair so that drift cancels; each run's wall time is read
# off bash's $EPOCHREALTIME (µs): no `date` forked inside the measurement.
# One line per program: the median ms of each, then the median of the
# per-pair ratios ours/C and their spread (min p25 p75 max). Then start-up:
# ours --version against a C program that does nothing (int main(){return
# 0;}), paired the same way. The last line says whether each program meets
# ours/C median <= 1.05 (a report: the exit status is 0 either way, unless
# something broke). The runs hold the test suite's machine-wide lock
# (scripts/with-machine-lock.sh), since the C and ours use the article's
# fixed names: a start is refused if the segment of ftok("/etc/passwd",
# 1234) or /dev/shm/shm exists (someone's: never removed), and ipcs -m,
# ipcs -s and /dev/shm are checked to be as before, also when interrupted.
#
# The article ("Linux进程间通信-共享内存", by Zorro) is read from --article
# (or $ARTICLE): a saved copy of its Markdown, or a URL to download it from.
# Default: the Markdown source on GitHub, see README.md ("The article").
# xsi_shm_mem_huge.c is not printed whole in the article; like the article
# says, it is xsi_shm_mem.c with SHM_HUGETLB added to shmget. Comparing it
# needs root, to reserve huge pages for the C (given back on every exit).
#
# Needs: cargo, gcc, awk, /usr/bin/time; curl when --article is a URL;
# with --paired, python3 (for the lock) and ipcs instead of /usr/bin/time.
# Run it on a quiet machine: timings are shared with everything running.
set -euo pipefail
cd "$(dirname "$0")/.."

url=https://raw.githubusercontent.com/zorrozou/zorrozou.github.io/master/docs/books/linuxjin-cheng-jian-tong-4fe1-gong-xiang-nei-cun.md
article=${ARTICLE:-$url}
runs=${RUNS:-}
paired=no
all=(racing_mmap racing_xsi_shm racing_posix_shm mmap_mem xsi_shm_mem xsi_shm_mem_huge)
racing=(racing_mmap racing_xsi_shm racing_posix_shm)
programs=()
# The header comment above, from line 2 to the first line that is not a comment.
usage() { awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$0"; }
while [ $# -gt 0 ]; do
    case $1 in
        --article) article=${2:?--article needs a path or URL}; shift 2 ;;
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        --paired) paired=yes; shift ;;
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
if [ "$paired" = yes ]; then
    for p in "${programs[@]}"; do
        case " ${racing[*]} " in
            *" $p "*) ;;
            *) echo "compare-with-c.sh: --paired times the racing programs only, not $p; pick from: ${racing[*]}" >&2; exit 2 ;;
        esac
    done
    [ ${#programs[@]} -gt 0 ] || programs=("${racing[@]}")
    runs=${runs:-30}
else
    [ ${#programs[@]} -gt 0 ] || programs=("${all[@]}")
    runs=${runs:-20}
fi
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "compare-with-c.sh: --runs wants a whole number from 1, not '$runs'" >&2; exit 2; }

# --- What it needs, checked before anything is built or downloaded ----------
missing=()
for tool in cargo gcc awk; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "$paired" = yes ]; then
    command -v python3 >/dev/null || missing+=("python3, to take the machine-wide lock (scripts/with-machine-lock.sh)")
    command -v ipcs >/dev/null || missing+=("ipcs (Debian: apt-get install util-linux)")
else
    [ -x /usr/bin/time ] || missing+=("/usr/bin/time (Debian: apt-get install time)")
fi
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

# The article's C for program $1, built as $work/$1.
build_c() {
    c_source "$1" > "$work/$1.c"
    if ! grep -q 'main' "$work/$1.c"; then
        echo "compare-with-c.sh: no C program $1.c found in $article" >&2
        exit 1
    fi
    gcc -O2 -w -o "$work/$1" "$work/$1.c" -lrt
}

packages=()
for p in "${programs[@]}"; do [ -n "$p" ] && packages+=(-p "$p"); done
cargo build --release --quiet "${packages[@]}"

# --- --paired: the racing programs, C and ours in alternating pairs ---------
if [ "$paired" = yes ]; then
    for p in "${programs[@]}"; do build_c "$p"; done
    # What the C and ours take by default: the article's fixed names. Read
    # them off the C: an article with other names is refused, not trusted.
    need_in() { grep -qF "$2" "$work/$1.c" || { echo "compare-with-c.sh: $1.c has no '$2'; $3" >&2; exit 1; }; }
    for p in "${programs[@]}"; do
        case $p in
            racing_xsi_shm)
                need_in "$p" '#define PATHNAME "/etc/passwd"' "this script checks the key of ftok(\"/etc/passwd\", 1234)"
                need_in "$p" 'proj_id = 1234;' "this script checks the key of ftok(\"/etc/passwd\", 1234)"
                need_in "$p" 'shmctl(shm_id, IPC_RMID, NULL)' "the C would leave its segment behind" ;;
            racing_posix_shm)
                need_in "$p" '#define SHMPATH "shm"' "this script checks /dev/shm/shm"
                need_in "$p" 'shm_unlink(SHMPATH);' "the C would leave /dev/shm/shm behind" ;;
        esac
    done
    # The key the C computes, computed the same way (not by running the C).
    cat > "$work/key.c" <<'C'
#include <stdio.h>
#include <sys/ipc.h>
int main(void)
{
	key_t key = ftok("/etc/passwd", 1234);
	if (key == -1) {
		perror("ftok(\"/etc/passwd\", 1234)");
		return 1;
	}
	printf("0x%08x\n", (unsigned)key);
	return 0;
}
C
    gcc -O2 -o "$work/key" "$work/key.c"
    key=$("$work/key")
    # A C program that does nothing: the floor of a start-up.
    echo 'int main(void) { return 0; }' > "$work/true.c"
    gcc -O2 -o "$work/true" "$work/true.c"

    # The article's names as they stand now: a segment's "shmid owner", and
    # whether /dev/shm/shm exists.
    key_segment() { ipcs -m | awk -v k="$key" 'tolower($1) == k { print "shmid " $2 ", owner " $3 }'; }
    # What the runs could change: identity columns only (nattch moves).
    ipc_snapshot() {
        echo "ipcs -m (key shmid owner perms bytes):"
        ipcs -m | awk '$1 ~ /^0x/ { print "  " $1, $2, $3, $4, $5 }'
        echo "ipcs -s (key semid owner perms nsems):"
        ipcs -s | awk '$1 ~ /^0x/ { print "  " $1, $2, $3, $4, $5 }'
        echo "/dev/shm:"
        find /dev/shm -mindepth 1 -maxdepth 1 -printf '  %f\n' | sort
    }

    # The test suite's machine-wide lock, held by a helper for as long as
    # its stdin (our end of a pipe) is open: until we close it or end.
    coproc LOCK { exec scripts/with-machine-lock.sh sh -c 'echo held; exec cat >/dev/null'; }
    lock_out=${LOCK[1]}
    read -r held <&"${LOCK[0]}" || held=
    [ "$held" = held ] || { echo "compare-with-c.sh: could not take the machine-wide lock" >&2; exit 1; }

    refuse=()
    if [[ " ${programs[*]} " == *" racing_xsi_shm "* ]]; then
        seg=$(key_segment)
        [ -z "$seg" ] || refuse+=("the segment with key $key = ftok(\"/etc/passwd\", 1234) ($seg; ipcs -m)")
    fi
    if [[ " ${programs[*]} " == *" racing_posix_shm "* ]] && [ -e /dev/shm/shm ]; then
        refuse+=("/dev/shm/shm ($(stat -c 'owner %U, %s bytes' /dev/shm/shm))")
    fi
    if [ ${#refuse[@]} -gt 0 ]; then
        echo "compare-with-c.sh: the article's programs would use what already exists:" >&2
        printf '  %s\n' "${refuse[@]}" >&2
        echo "It is someone's, so it is left alone; run again when it is gone. (The C would truncate /dev/shm/shm and unlink it.)" >&2
        exit 1
    fi
    ipc_snapshot > "$work/before"
    inflight=
    measuring=yes
    # On any way out: let a run under way finish (it cleans up after itself),
    # then say what differs from before.
    check_as_before() {
        [ -z "$inflight" ] || wait "$inflight" 2>/dev/null || true
        inflight=
        ipc_snapshot > "$work/after"
        cmp -s "$work/before" "$work/after" && return 0
        echo "compare-with-c.sh: ipcs -m, ipcs -s or /dev/shm differ from before the runs:" >&2
        diff "$work/before" "$work/after" > "$work/diff" || true
        sed 's/^/  /' "$work/diff" >&2
        if grep -qiE "^>   ($key |shm\$)" "$work/diff"; then
            echo "  the article's names are among them: a run left them behind" >&2
            return 1
        fi
        echo "  not the article's names: another process changed them meanwhile" >&2
    }
    trap '[ "$measuring" = yes ] && { measuring=no; check_as_before || true; }; cleanup' EXIT

    # One run of "$@": its wall time in microseconds into $elapsed. Between
    # the two clock readings only the run itself: fork, exec, wait.
    run_timed() {
        local t0 t1 rc=0
        t0=$EPOCHREALTIME
        "$@" >/dev/null 2>"$work/stderr" &
        inflight=$!
        wait "$inflight" || rc=$?
        t1=$EPOCHREALTIME
        inflight=
        elapsed=$(( ${t1//[!0-9]/} - ${t0//[!0-9]/} ))
        if [ "$rc" -ne 0 ]; then
            echo "compare-with-c.sh: $* ended with status $rc:" >&2
            sed 's/^/  /' "$work/stderr" >&2
            exit 1
        fi
    }
    # $runs pairs of (C, ours), C first in even pairs and ours first in odd
    # ones; "c_µs ours_µs" per pair to stdout. One unmeasured run of each
    # first. Called in this shell (not in a pipe), so a failed run ends it.
    pairs() {
        local c=$1 i c_us ours_us
        shift
        run_timed "$c"
        run_timed "$@"
        for ((i = 0; i < runs; i++)); do
            if ((i % 2 == 0)); then
                run_timed "$c"; c_us=$elapsed
                run_timed "$@"; ours_us=$elapsed
            else
                run_timed "$@"; ours_us=$elapsed
                run_timed "$c"; c_us=$elapsed
            fi
            echo "$c_us $ours_us"
        done
    }
    # Quantiles (linear between neighbours) of the pairs on stdin; prints
    # the medians of C and ours in ms, then of ours/C: min p25 median p75 max,
    # then the median of ours - C in ms.
    summary() {
        awk '
            function sort(a, n,   i, j, t) {
                for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
            }
            function q(a, n, p,   h, lo) { h = (n - 1) * p + 1; lo = int(h); return lo >= n ? a[n] : a[lo] + (h - lo) * (a[lo + 1] - a[lo]) }
            { n++; c[n] = $1; o[n] = $2; r[n] = $2 / $1; d[n] = $2 - $1 }
            END {
                sort(c, n); sort(o, n); sort(r, n); sort(d, n)
                printf "%.2f %.2f %.3f %.3f %.3f %.3f %.3f %+.2f\n", q(c, n, .5) / 1000, q(o, n, .5) / 1000,
                    r[1], q(r, n, .25), q(r, n, .5), q(r, n, .75), r[n], q(d, n, .5) / 1000
            }'
    }

    echo "# paired: the article's C (gcc -O2) and ours (release), $runs pairs each, alternating who goes first; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    verdicts=()
    for p in "${programs[@]}"; do
        pairs "$work/$p" "target/release/$p" > "$work/pairs"
        read -r c_ms o_ms rmin r25 rmed r75 rmax _ < <(summary < "$work/pairs")
        printf '%-17s C %6s ms  ours %6s ms  ours/C median %s (min %s, p25 %s, p75 %s, max %s)\n' \
            "$p" "$c_ms" "$o_ms" "$rmed" "$rmin" "$r25" "$r75" "$rmax"
        if awk -v r="$rmed" 'BEGIN { exit !(r <= 1.05) }'; then
            verdicts+=("$p meets it ($rmed)")
        else
            verdicts+=("$p misses it ($rmed)")
        fi
    done
    for p in "${programs[@]}"; do
        pairs "$work/true" "target/release/$p" --version > "$work/pairs"
        read -r c_ms o_ms _ _ _ _ _ diff < <(summary < "$work/pairs")
        printf '%-17s start-up: C that does nothing %s ms  ours --version %s ms  ours - C %s ms (median of pairs)\n' \
            "$p" "$c_ms" "$o_ms" "$diff"
    done
    measuring=no
    check_as_before || exit 1
    exec {lock_out}>&-
    echo "# load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    line=$(printf '%s; ' "${verdicts[@]}")
    echo "# target ours/C median <= 1.05: ${line%; }"
    exit 0
fi

for p in "${programs[@]}"; do
    [ -n "$p" ] || continue
    build_c "$p"
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
