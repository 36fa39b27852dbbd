#!/usr/bin/env bash
# Run the whole test suite as an ordinary user: build as whoever runs this
# (root, whose toolchain other users cannot reach), then run every built test
# binary as USER, the way `cargo test` would (each from its crate's folder).
#
#   scripts/test-as-user.sh USER [test-binary arguments...]
#
# USER must be able to read this checkout and its target/ folder. CI makes
# sure of that (.ci/run); on your own machine, a checkout under /root is not
# readable by others: clone into /srv or /home/USER instead.
set -euo pipefail
cd "$(dirname "$0")/.."

user=${1:?usage: scripts/test-as-user.sh USER [test-binary arguments...]}
shift
if [ "$(id -u)" != 0 ]; then
    echo "test-as-user.sh: run this as root (it switches to $user to run the tests)" >&2
    exit 2
fi
if ! id "$user" >/dev/null 2>&1; then
    echo "test-as-user.sh: no user $user; create one with: useradd -m $user" >&2
    exit 2
fi
group=$(id -g "$user")
as_user() { setpriv --reuid="$user" --regid="$group" --init-groups "$@"; }
if ! as_user test -r "$(pwd)/Cargo.toml" 2>/dev/null; then
    echo "test-as-user.sh: $user cannot read $(pwd)" >&2
    exit 1
fi

# Build every test binary (as root), and list them: "crate-folder executable".
list=$(cargo test --workspace --no-run --message-format=json 2>/dev/null |
    grep '"executable":"[^"]*/deps/' |
    sed -E 's/.*"manifest_path":"([^"]*)\/Cargo.toml".*"executable":"([^"]*)".*/\1 \2/' |
    sort)
[ -n "$list" ] || { echo "test-as-user.sh: no test binaries were built" >&2; exit 1; }
if ! as_user test -x "$(echo "$list" | head -n1 | cut -d' ' -f2)" 2>/dev/null; then
    echo "test-as-user.sh: $user cannot run the test binaries in target/" >&2
    exit 1
fi

home=$(getent passwd "$user" | cut -d: -f6)
failed=0
while read -r dir exe; do
    echo "== as $user: ${exe##*/} (in ${dir##*/})"
    # A fresh environment, as a login would give: no root's TMPDIR or HOME.
    if ! (cd "$dir" && timeout 900 setpriv --reuid="$user" --regid="$group" --init-groups \
        env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$user" LOGNAME="$user" \
        LANG=C.UTF-8 "$exe" "$@"); then
        failed=$((failed + 1))
    fi
done <<<"$list"
if [ "$failed" != 0 ]; then
    echo "test-as-user.sh: $failed test binaries failed as $user" >&2
    exit 1
fi
echo "test-as-user.sh: every test binary passed as $user"
