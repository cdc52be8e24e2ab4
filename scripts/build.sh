#!/usr/bin/env bash
# Builds what the test command's checks start, and vouches for it.
#
#   scripts/build.sh [--release]
#       Builds the whole workspace's test targets and every binary (core-service, api-service,
#       admin-service and the rest) in one cargo invocation: the feature set of
#       `cargo test --workspace`, so that neither build compiles anything twice. Then writes, next
#       to each executable cargo reported (built now or already fresh), NAME.source: the
#       fingerprint of the sources it was built from.
#   scripts/build.sh verify DIR NAME...
#       Refuses (exit 1, saying why) unless each DIR/NAME exists and its NAME.source is the
#       fingerprint of the sources as they are now. Every check that starts a service binary
#       calls it first, so none ever starts a binary left in the build directory by an older
#       build, another checkout, or a build command that did not name it.
#   scripts/build.sh fingerprint
#       Prints the sources' fingerprint: the commit, and when the work tree differs from it, a
#       sha256 of the differences (tracked changes and untracked, not ignored, files).
#
# Honours CARGO_TARGET_DIR (default: target/ at the repository root).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

fingerprint() {
    if git -C "$root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
        local commit changes
        commit="$(git -C "$root" rev-parse HEAD)"
        changes="$(git -C "$root" status --porcelain --untracked-files=all)"
        if [[ -z "$changes" ]]; then
            printf '%s\n' "$commit"
        else
            {
                git -C "$root" diff HEAD --binary
                git -C "$root" ls-files -z --others --exclude-standard |
                    while IFS= read -r -d '' file; do
                        printf '%s\0' "$file"
                        cat -- "$file" 2>/dev/null || true
                    done
            } | sha256sum | { read -r sum _; printf '%s+%s\n' "$commit" "$sum"; }
        fi
    else
        # Not a git checkout (an unpacked archive): the sources' contents.
        find Cargo.toml Cargo.lock crates core-service api-service admin-service tests migrations \
            -type f -not -path '*/.venv/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum |
            { read -r sum _; printf 'tree+%s\n' "$sum"; }
    fi
}

case "${1:-}" in
fingerprint)
    fingerprint
    ;;
verify)
    shift
    dir="$1"
    shift
    want="$(fingerprint)"
    status=0
    for name in "$@"; do
        if [[ ! -x "$dir/$name" ]]; then
            printf 'build: %s/%s is missing: scripts/build.sh builds it\n' "$dir" "$name" >&2
            status=1
        elif [[ "$(cat "$dir/$name.source" 2>/dev/null || true)" != "$want" ]]; then
            printf 'build: %s/%s was not built from these sources (its stamp: %s; the sources: %s): run scripts/build.sh\n' \
                "$dir" "$name" "$(cat "$dir/$name.source" 2>/dev/null || echo none)" "$want" >&2
            status=1
        fi
    done
    exit "$status"
    ;;
"" | --release)
    profile=()
    [[ "${1:-}" == --release ]] && profile=(--release)
    want="$(fingerprint)"
    cargo build --locked "${profile[@]}" --workspace --bins --tests
    # The same build again, now fresh, reports every executable it holds as JSON: each binary
    # target of the workspace must be among them, and each gets the stamp.
    cargo build --locked "${profile[@]}" --workspace --bins --tests --message-format=json --quiet |
        python3 -c '
import json, subprocess, sys
stamp = sys.argv[1]
metadata = json.loads(subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"],
                                     check=True, capture_output=True, text=True).stdout)
expected = {t["name"] for p in metadata["packages"] for t in p["targets"] if "bin" in t["kind"]}
stamped = set()
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if message.get("reason") != "compiler-artifact" or not message.get("executable"):
        continue
    if "bin" not in message["target"]["kind"] or message["profile"]["test"]:
        continue
    with open(message["executable"] + ".source", "w") as out:
        out.write(stamp + "\n")
    stamped.add(message["target"]["name"])
missing = sorted(expected - stamped)
if missing:
    sys.exit(f"build: cargo reported no executable for {missing}: nothing stamped for them")
print(f"build: {len(stamped)} binaries stamped with {stamp}", file=sys.stderr)
' "$want"
    ;;
*)
    sed -n '2,21p' "$0" >&2
    exit 2
    ;;
esac
