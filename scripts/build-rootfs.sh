#!/usr/bin/env bash
# Builds (or verifies) the cached Debian sid root filesystem that Asterisk runs in.
# Debian 12 ships no Asterisk; sid does. Cached per machine, rebuilt when missing or broken.
set -euo pipefail

ROOT=${MADOGUCHI_ROOTFS:-/var/cache/madoguchi/rootfs}
MIRROR=${MADOGUCHI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Bump when the package list changes: a root filesystem with another stamp is rebuilt.
PACKAGES="asterisk,python3,asterisk-moh-opsound-wav,asterisk-core-sounds-en-wav,asterisk-core-sounds-en-gsm"
STAMP="v1 $PACKAGES"

die() { echo "build-rootfs: $*" >&2; exit 1; }

if [ -f "$ROOT/.madoguchi-stamp" ] && [ "$(cat "$ROOT/.madoguchi-stamp")" = "$STAMP" ] \
   && [ -x "$ROOT/usr/sbin/asterisk" ] && chroot "$ROOT" /usr/sbin/asterisk -V >/dev/null 2>&1; then
  echo "Asterisk root filesystem ready: $ROOT ($(chroot "$ROOT" /usr/sbin/asterisk -V))"
  exit 0
fi

command -v debootstrap >/dev/null || die "debootstrap is missing; fix: apt-get install debootstrap (make setup does this)"
[ "$(id -u)" = 0 ] || die "building the root filesystem needs root; fix: run make setup as root"

parent=$(dirname "$ROOT")
mkdir -p "$parent"
free_mb=$(df -Pm "$parent" | awk 'NR==2 {print $4}')
[ "${free_mb:-0}" -ge 1500 ] || die "only ${free_mb} MB free under $parent, the root filesystem needs 1500 MB; fix: free disk space or set MADOGUCHI_ROOTFS to a roomier place"

echo "Building the Asterisk root filesystem (Debian sid, about 1 minute) in $ROOT ..."
tmp="$ROOT.partial"
# A half-built tree may have proc mounted from an interrupted earlier run.
umount -R "$tmp/proc" 2>/dev/null || true
rm -rf "$tmp"
log="$parent/debootstrap.log"
# debootstrap prints one I: line per step: show them as progress.
if ! debootstrap --variant=minbase --include="$PACKAGES" sid "$tmp" "$MIRROR" 2>&1 \
     | tee "$log" | grep --line-buffered -E '^I: (Retrieving|Extracting|Installing|Configuring|Unpacking|Base system)' \
     | awk '{ n++; if ($2 != phase || n % 40 == 0) { printf "  [%4d steps] %s %s\n", n, $2, $3; phase=$2 } fflush() }'; then
  :
fi
[ -x "$tmp/usr/sbin/asterisk" ] || die "debootstrap did not produce Asterisk (see $log); fix: check that the Debian mirror is reachable, then run make setup again"

# Without these, every call does DNS look-ups that stall on a closed network.
printf '127.0.0.1 localhost %s\n::1 localhost ip6-localhost\n' "$(hostname)" > "$tmp/etc/hosts"
: > "$tmp/etc/resolv.conf"
rm -rf "$tmp/var/cache/apt/archives/"*.deb
echo "$STAMP" > "$tmp/.madoguchi-stamp"
umount -R "$ROOT/proc" 2>/dev/null || true
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
echo "Asterisk root filesystem ready: $ROOT ($(chroot "$ROOT" /usr/sbin/asterisk -V))"
