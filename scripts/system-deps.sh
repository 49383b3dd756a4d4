#!/usr/bin/env bash
# Installs the Debian packages medval needs when they are missing: bubblewrap (the
# local sandbox), PostgreSQL 15 server binaries (the store's tests run on it), the
# container engines the Docker and Podman runners drive (docker.io, podman), and what
# rootless Podman needs to map a user's subordinate ids (uidmap: newuidmap, newgidmap).
set -euo pipefail
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql-15)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v newuidmap >/dev/null 2>&1 || need+=(uidmap)
[ -x /usr/bin/python3 ] || need+=(python3)  # the unprivileged test run's own venv
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
