#!/usr/bin/env bash
# make setup: installs what is missing, and nothing else (fast when all is there).
#   1. Debian packages (SIPp, PostgreSQL, debootstrap, espeak-ng/sox, baresip, Chromium)
#   2. the Python virtualenv .venv with the project and its dev tools
#   3. the cached Asterisk root filesystem (Debian sid, see scripts/build-rootfs.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
die() { echo "setup: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (it installs Debian packages and runs Asterisk in a namespace); fix: run as root"

PACKAGES=(debootstrap sip-tester postgresql espeak-ng sox baresip chromium chromium-driver fonts-ipafont-gothic util-linux mount iproute2 procps ca-certificates)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || die "apt-get update failed; fix: check the machine can reach the Debian mirror"
  apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed; fix: see the apt output above"
  # Debian starts a system-wide PostgreSQL cluster on install; madoguchi runs its own.
else
  echo "Debian packages: all present"
fi

PY=${PYTHON:-python3}
command -v "$PY" >/dev/null || die "python3 is missing; fix: apt-get install python3 python3-venv"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ is needed ($PY is $("$PY" -V))"
stamp=".venv/.madoguchi-stamp"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  step "Creating the Python virtualenv (.venv) and installing the project"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv \
    || { apt-get install -y -q python3-venv && "$PY" -m venv .venv; } \
    || die "could not create .venv; fix: apt-get install python3-venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install --progress-bar on -e '.[dev]' \
    || die "pip install failed; fix: see the pip output above"
  echo "$want" > "$stamp"
else
  echo "Python virtualenv: up to date"
fi

step "Asterisk root filesystem"
bash scripts/build-rootfs.sh
echo
echo "setup: done"
