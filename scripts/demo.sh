#!/usr/bin/env bash
# A walk-through of the oplog-sync CLI on a scratch Muse repository: appends from oplog-sync and
# from a Muse-like Python writer into the same session, then log, delta, checkpoint, verify.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
swift build --product oplog-sync >&2
bin="$(swift build --show-bin-path)/oplog-sync"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run "$bin" append --root "$root" --session live-1 --actor alice --domain music --op '{"op":"insert","pitch":60}'
run "$bin" append --root "$root" --session live-1 --actor alice --domain music --op '{"op":"insert","pitch":64}'
say "python3 Tests/Interop/muse_like.py write ROOT live-1 muse-bot 3    # Muse's own way of appending"
python3 Tests/Interop/muse_like.py write "$root" live-1 muse-bot 3
run "$bin" append --root "$root" --session live-1 --actor alice --domain music --op '{"op":"delete","pitch":60}'
run "$bin" sessions --root "$root"
run "$bin" log --root "$root" --session live-1 --canonical
run "$bin" delta --root "$root" --session live-1 --domain music
run "$bin" checkpoint --root "$root" --session live-1 --snapshot snap-0001
run "$bin" append --root "$root" --session live-1 --actor alice --domain music --op '{"op":"velocity","pitch":64,"value":90}'
run "$bin" delta --root "$root" --session live-1 --domain music
run "$bin" verify --root "$root"
