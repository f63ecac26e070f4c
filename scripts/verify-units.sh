#!/usr/bin/env bash
# Checks the systemd units in deploy/ as `systemd-analyze verify` sees them once installed: the
# units go into a scratch root's /etc/systemd/system next to a copy of this machine's system
# units, with the given oplog-sync binary at /usr/local/bin/oplog-sync (their ExecStart). Fails
# on any message, warnings included (an unknown key is only a warning to systemd), and when the
# hardening's exposure score (`systemd-analyze security`) passes 2.5.
#
#   bash scripts/verify-units.sh PATH/TO/oplog-sync
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:?usage: verify-units.sh PATH/TO/oplog-sync}
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "verify-units: systemd-analyze is not installed (scripts/setup.sh installs it)" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/usr/local/bin" "$scratch/etc/systemd/system" "$scratch/usr/lib/systemd"
cp -r /usr/lib/systemd/system "$scratch/usr/lib/systemd/"
cp "$binary" "$scratch/usr/local/bin/oplog-sync"
cp deploy/oplog-sync.service deploy/oplog-sync@.service "$scratch/etc/systemd/system/"

status=0
for unit in oplog-sync.service oplog-sync@.service; do
  if ! output=$(systemd-analyze verify --root="$scratch" "/etc/systemd/system/$unit" 2>&1) || [ -n "$output" ]; then
    echo "verify-units: $unit:" >&2
    echo "$output" >&2
    status=1
  fi
done
for unit in oplog-sync.service oplog-sync@alice.service; do
  if ! output=$(systemd-analyze security --offline=yes --root="$scratch" --threshold=25 "$unit" 2>&1); then
    echo "verify-units: $unit is exposed beyond 2.5:" >&2
    echo "$output" | tail -5 >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "verify-units: oplog-sync.service and oplog-sync@.service pass"
exit $status
