#!/usr/bin/env bash
# Builds the VM lane's guest: Debian bookworm (debootstrap minbase) with bookworm's Linux 6.1,
# systemd, containerd 1.6 (bookworm) plus 1.7 and 2.x (the binaries scripts/setup-host.sh
# unpacked into .cache/containerd), runc, crun, the tests' packages and the host's Node.js.
# The project tree is NOT in the image: scripts/vm/lane.sh gives it to the guest as a second
# disk at each run, so the image is rebuilt only when what goes into it changes.
#
#   bash scripts/vm/build-image.sh        prints the image directory on its last line
#
# Output: .cache/vm/image-<key>/{root.img,vmlinuz,initrd.img,manifest.txt}. <key> is a hash of
# this script, scripts/vm/packages.txt, the containerd binaries and /usr/bin/node; an image
# with the current key is reused (a cached run skips the build), older ones are removed.
# Needs root, debootstrap, e2fsprogs (mkfs.ext4 -d: no loop mount) and network access to the
# Debian mirror the system's apt sources use. Env: VNODE_VM_REBUILD=1 forces a build;
# VNODE_VM_CACHE puts the cache elsewhere than .cache/vm.
set -euo pipefail
export LC_ALL=C DEBIAN_FRONTEND=noninteractive

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VMCACHE="${VNODE_VM_CACHE:-$ROOT/.cache/vm}"
PKGFILE="$ROOT/scripts/vm/packages.txt"
NODE_BIN=/usr/bin/node
SUITE=bookworm
IMG_SIZE=6G

step() { printf '[vm-image] %s\n' "$*" >&2; }
die() { printf '[vm-image] error: %s\n' "$*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
for t in debootstrap mkfs.ext4 sha256sum; do command -v "$t" >/dev/null || die "missing $t (scripts/vm/setup.sh installs it)"; done
for d in 1.7 2; do
  [ -x "$ROOT/.cache/containerd/$d/usr/bin/containerd" ] || die "missing .cache/containerd/$d (run scripts/setup-host.sh)"
done
[ -x "$ROOT/.cache/crun/bin/crun" ] || die "missing .cache/crun/bin/crun (run scripts/setup-host.sh)"
command -v patchelf >/dev/null || die "missing patchelf (scripts/setup-host.sh installs it)"
[ -x "$NODE_BIN" ] || die "missing $NODE_BIN"

mapfile -t PKGS < <(sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$PKGFILE")
[ "${#PKGS[@]}" -gt 0 ] || die "no packages in $PKGFILE"

# ---- cache key: everything that goes into the image ---------------------------------------
KEY=$( {
  sha256sum "${BASH_SOURCE[0]}" "$PKGFILE" | cut -d' ' -f1
  (cd "$ROOT/.cache/containerd" && find 1.7/usr/bin 2/usr/bin -type f | sort | xargs sha256sum)
  (cd "$ROOT/.cache/crun" && find . -type f | sort | xargs sha256sum)
  sha256sum "$NODE_BIN" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
OUT="$VMCACHE/image-$KEY"
if [ "${VNODE_VM_REBUILD:-}" != 1 ] && [ -f "$OUT/.done" ]; then
  step "cached image $OUT"
  echo "$OUT"
  exit 0
fi

mkdir -p "$VMCACHE/debs"
VMCACHE=$(realpath "$VMCACHE") # .cache may be a symlink; mount points are listed by real path
exec 9> "$VMCACHE/.build.lock"
flock 9
WORK="$VMCACHE/build.$$"
ROOTFS="$WORK/rootfs"
cleanup() {
  # debootstrap mounts proc/sys/dev/pts in the target; never leave one behind.
  if [ -d "$ROOTFS" ]; then
    { findmnt -rn -o TARGET | grep -F "$ROOTFS/" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
rm -rf "$WORK"
mkdir -p "$WORK"

# The mirror the system's apt sources already use (as setup-host.sh does).
URI=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  URI="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$URI" ] && [ -f /etc/apt/sources.list ]; then
  URI="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' /etc/apt/sources.list)"
fi
[ -n "$URI" ] || URI="http://deb.debian.org/debian"

t0=$(date +%s)
step "debootstrap --variant=minbase $SUITE from $URI (${#PKGS[@]} packages and their dependencies)"
INCLUDE=$(IFS=,; echo "${PKGS[*]}")
debootstrap --variant=minbase --components=main --include="$INCLUDE" --cache-dir="$VMCACHE/debs" \
  "$SUITE" "$ROOTFS" "$URI" > "$WORK/debootstrap.log" 2>&1 ||
  { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
step "debootstrap done in $(( $(date +%s) - t0 ))s"

# ---- configure ---------------------------------------------------------------------------
echo vnode-vm > "$ROOTFS/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 vnode-vm\n' > "$ROOTFS/etc/hosts"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' > "$ROOTFS/etc/fstab"
: > "$ROOTFS/etc/machine-id"
# Services the lane does not want: the tests start their own containerd instances; the
# rest only costs boot time under TCG. The console is the lane's log, not a login prompt.
for u in containerd.service lxcfs.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
         e2scrub_reap.service fstrim.timer serial-getty@ttyS0.service getty@tty1.service \
         systemd-timesyncd.service systemd-firstboot.service; do
  ln -sf /dev/null "$ROOTFS/etc/systemd/system/$u"
done

# Node.js: the host's binary (NodeSource's nodejs package, not in Debian's archive), whose
# libraries (libc, libstdc++, libgcc_s) are Debian packages in packages.txt.
install -m 755 "$NODE_BIN" "$ROOTFS/usr/bin/node"
# containerd 1.7 and 2.x as the tests find them (.cache/containerd/<v>/usr/bin); the guest's
# lane script links /opt/vnode/containerd into the tree's .cache.
mkdir -p "$ROOTFS/opt/vnode/containerd"
for d in 1.7 2; do cp -a "$ROOT/.cache/containerd/$d" "$ROOTFS/opt/vnode/containerd/$d"; done
# trixie's crun (the guest's bookworm crun 1.8.1 refuses containerd 2.x's specs), as
# setup-host.sh unpacks it into .cache/crun, its interpreter and rpath pointed at its new
# place; the lane script links /opt/vnode/crun into the tree's .cache.
cp -a "$ROOT/.cache/crun" "$ROOTFS/opt/vnode/crun"
patchelf --set-interpreter /opt/vnode/crun/trixie/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \
  --set-rpath /opt/vnode/crun/trixie/usr/lib/x86_64-linux-gnu "$ROOTFS/opt/vnode/crun/bin/crun"

# The lane's entry point: mount the tree disk (label vnodetree), run the tree's own
# scripts/vm/guest-lane.sh with its output on the second serial port, power off. The
# guest-side steps live in the tree so that changing them needs no image rebuild.
cat > "$ROOTFS/usr/local/sbin/vnode-lane" <<'EOF'
#!/bin/sh
out=/dev/ttyS1
stty -F "$out" raw -echo 2>/dev/null || true
mkdir -p /vnode
if mount -L vnodetree /vnode && [ -f /vnode/scripts/vm/guest-lane.sh ]; then
  bash /vnode/scripts/vm/guest-lane.sh > "$out" 2>&1
  rc=$?
  sync
  umount /vnode || true
else
  echo "vnode-lane: the tree disk (label vnodetree) is missing or has no scripts/vm/guest-lane.sh" > "$out"
  rc=3
fi
echo "@@LANE-EXIT $rc" > "$out"
sync
systemctl poweroff --force --force
EOF
chmod 755 "$ROOTFS/usr/local/sbin/vnode-lane"
cat > "$ROOTFS/etc/systemd/system/vnode-lane.service" <<'EOF'
[Unit]
Description=vnode VM lane: the integration tests of the tree disk
After=multi-user.target
ConditionPathExists=/dev/disk/by-label/vnodetree

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/vnode-lane
# The tests run containerd and their pods' cgroups below this service, like containerd.service.
Delegate=yes
TasksMax=infinity
LimitNOFILE=1048576
TimeoutStartSec=infinity
Environment=HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/vnode-lane.service "$ROOTFS/etc/systemd/system/multi-user.target.wants/vnode-lane.service"

# ---- kernel, initrd, manifest, disk image -------------------------------------------------
mkdir -p "$WORK/out"
KREL=$(cd "$ROOTFS/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//' | sort -V | tail -n1)
[ -n "$KREL" ] && [ -f "$ROOTFS/boot/initrd.img-$KREL" ] || die "no kernel/initrd in the guest's /boot"
cp "$ROOTFS/boot/vmlinuz-$KREL" "$WORK/out/vmlinuz"
cp "$ROOTFS/boot/initrd.img-$KREL" "$WORK/out/initrd.img"
{
  echo "key $KEY"
  echo "built $(date -u +%FT%TZ) in $(( $(date +%s) - t0 ))s"
  echo "kernel $KREL"
  echo "node $("$ROOTFS/usr/bin/node" --version 2>/dev/null || "$NODE_BIN" --version)"
  for d in 1.7 2; do echo "containerd-$d $("$ROOT/.cache/containerd/$d/usr/bin/containerd" --version | awk '{print $3}')"; done
  chroot "$ROOTFS" dpkg-query -W -f '${Package} ${Version}\n'
} > "$WORK/out/manifest.txt"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/tmp/* 2>/dev/null || true
step "mkfs.ext4 -d (root.img, $IMG_SIZE sparse, $(du -sm "$ROOTFS" | cut -f1) MiB of files)"
mkfs.ext4 -q -F -L vnoderoot -d "$ROOTFS" "$WORK/out/root.img" "$IMG_SIZE" > /dev/null || die "mkfs.ext4 -d failed"
touch "$WORK/out/.done"

rm -rf "$VMCACHE"/image-*
mv "$WORK/out" "$OUT"
step "image $OUT ($KREL) built in $(( $(date +%s) - t0 ))s"
echo "$OUT"
