#!/usr/bin/env bash
# Install the servers the activation service tests start on loopback (PostgreSQL, OpenSSH's
# sshd + sftp-server) and Debian's Chromium for the web app's browser tests. Idempotent:
# installs only what is missing. Needs root (apt-get).
set -euo pipefail

need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ ! -x /usr/sbin/sshd ] || { [ ! -x /usr/lib/openssh/sftp-server ] && [ ! -x /usr/libexec/openssh/sftp-server ]; }; then
  need+=(openssh-server)
fi
if [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
fi

if [ ${#need[@]} -eq 0 ]; then
  echo "install-services: postgresql, openssh-server and chromium already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-services: need root to install: ${need[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
# the packages start system services in some environments; the tests start their own
if command -v service >/dev/null 2>&1; then
  service postgresql stop >/dev/null 2>&1 || true
  service ssh stop >/dev/null 2>&1 || true
fi
echo "install-services: installed ${need[*]}"
