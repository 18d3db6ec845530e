#!/usr/bin/env bash
# Host tools of the VM lane (idempotent, quiet when present): qemu (system emulator and
# qemu-img), debootstrap and e2fsprogs (mkfs.ext4 -d builds the disks without a loop mount).
# containerd 1.7/2.x for the guest come from scripts/setup-host.sh (.cache/containerd).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" = 0 ] || { echo "[vm-setup] must run as root" >&2; exit 2; }
PKGS=(qemu-system-x86 qemu-utils debootstrap e2fsprogs)
missing=()
for p in "${PKGS[@]}"; do
  st="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [ "$st" = installed ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[vm-setup] apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi
