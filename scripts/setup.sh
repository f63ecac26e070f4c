#!/usr/bin/env bash
# Installs what oplog-sync needs to build and test on a Debian machine with Swift already on it:
# libinotifytools (headers and library), python3 (the Muse-like writer in the interop tests),
# chromium (the status page is rendered in headless Chromium by a process test), systemd's tools
# (the units in deploy/) and iproute2 (deploy/netns-demo.sh).
# Safe to run again: it installs only what is missing.
set -euo pipefail

need=()
if ! [ -f /usr/include/inotifytools/inotifytools.h ]; then need+=(libinotifytools0-dev); fi
if ! command -v python3 >/dev/null 2>&1; then need+=(python3); fi
# systemd-analyze checks the units in deploy/ (scripts/verify-units.sh).
if ! command -v systemd-analyze >/dev/null 2>&1; then need+=(systemd); fi
if ! command -v chromium >/dev/null 2>&1; then need+=(chromium); fi
# ip (network namespaces) runs deploy/netns-demo.sh, a test when run as root.
if ! [ -x /usr/sbin/ip ] && ! command -v ip >/dev/null 2>&1; then need+=(iproute2); fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH; install Swift 6.1 or later (swift.org) first" >&2
  exit 1
fi
