#!/usr/bin/env bash
# Run a command with networking disabled: a new network namespace with only a loopback device.
# The book's build and tests must pass like this (no downloads at build or test time).
set -euo pipefail
if ! command -v unshare >/dev/null; then
  echo "offline.sh: 'unshare' (util-linux) is needed to run the tests without network" >&2; exit 1
fi
# -r maps the current user to root inside the new user namespace, so this also works unprivileged.
export KAZDIASPORA_OFFLINE=1
exec unshare -rn -- bash -c 'ip link set lo up 2>/dev/null || true; exec "$@"' offline "$@"
