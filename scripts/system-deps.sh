#!/usr/bin/env bash
# Installs the Debian packages medval needs when they are missing.
#   system-deps.sh demo   what `make demo` needs: bubblewrap (the local sandbox)
#   system-deps.sh test   that, and what the tests drive for real: PostgreSQL 15 server
#                         binaries (the store's tests), the container engines of the Docker
#                         and Podman runners (docker.io, podman), what rootless Podman needs
#                         to map a user's subordinate ids (uidmap), Debian's Python (the
#                         unprivileged run's own venv), Chromium (the browser tests) and
#                         mricron-data (the imaging benchmark's scans and the MR scan the segmenter
#                         cubes' tests segment)
#   system-deps.sh imaging  what `make demo-imaging` adds: mricron-data (Colin27 T1)
set -euo pipefail
part=${1:-test}
need=()
if [ "$part" = imaging ]; then
  [ -f /usr/share/mricron/templates/ch2bet.nii.gz ] || need+=(mricron-data)
else
  command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
fi
if [ "$part" = test ]; then
  [ -f /usr/share/mricron/templates/ch2bet.nii.gz ] || need+=(mricron-data)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql-15)
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)
  [ -x /usr/bin/python3 ] || need+=(python3)
  [ -x /usr/bin/chromium ] || need+=(chromium)
elif [ "$part" != demo ] && [ "$part" != imaging ]; then
  echo "usage: system-deps.sh demo|imaging|test" >&2
  exit 2
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "medval needs these Debian packages: ${need[*]}" >&2
  echo "Ask an administrator to run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
