#!/usr/bin/env bash
# Run a command while holding the test suite's machine-wide lock, so that
# no test (yours or another user's) reads /proc/meminfo, reserves huge pages
# or uses the article's default names meanwhile, and the command disturbs
# no test. The lock is the abstract Unix socket @shm-lessons-tests/machine
# (see testkit/src/lock.rs): no file, nothing to clean up, freed when the
# command ends.
#
#   scripts/with-machine-lock.sh COMMAND [ARGS...]
#
# Needs python3 (to bind the socket and keep it open across exec).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/with-machine-lock.sh COMMAND [ARGS...]" >&2; exit 2; }
exec python3 - "$@" <<'PY'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
deadline = time.monotonic() + 600
told = False
while True:
    try:
        s.bind("\0shm-lessons-tests/machine")
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("with-machine-lock.sh: waited 600 s for the machine-wide test lock")
        if not told:
            print("with-machine-lock.sh: waiting for a test run to release the machine-wide lock", file=sys.stderr)
            told = True
        time.sleep(0.05)
s.set_inheritable(True)  # held by the command, released when it ends
os.execvp(sys.argv[1], sys.argv[1:])
PY
