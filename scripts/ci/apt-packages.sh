#!/usr/bin/env bash
# Debian packages the build and tests need. Idempotent; skips apt when everything is present.
set -euo pipefail
# mount: the disk-full tests mount a small tmpfs.
packages=(build-essential python3 git postgresql-15 mariadb-server slapd ldap-utils openssl chromium mount)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
