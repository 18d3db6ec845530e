#!/bin/bash
# Checks vnode's ID-mapped rootfs technique (native/check-idmap.c) on the host kernel
# and on Debian bookworm's own Linux 6.1, booted under qemu (software emulation).
#
#   scripts/check-kernel-6.1.sh [--no-host] [--no-guest] [--timeout SECS] [--mem MB]
#
# Everything it downloads or builds goes to .cache/kernel/ (idempotent: the kernel
# package is downloaded once). Needs root, apt-get with bookworm's sources, gcc with
# glibc's static libraries (libc6-dev), e2fsprogs; installs qemu-system-x86, cpio and
# busybox-static with apt-get when missing.
#
# Output: the check's lines ("PASS name" / "FAIL name: reason") prefixed with
# "[host]" or "[6.1]", then a summary. Exit status 0 only if both checks pass
# (1 if a check failed, 2 on a setup error, 124 if the guest timed out).
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.cache/kernel
RUN_HOST=1
RUN_GUEST=1
TIMEOUT=${CHECK_KERNEL_TIMEOUT:-300}
MEM=${CHECK_KERNEL_MEM:-512}

while [ $# -gt 0 ]; do
  case "$1" in
    --no-host) RUN_HOST=0 ;;
    --no-guest) RUN_GUEST=0 ;;
    --timeout) TIMEOUT=$2; shift ;;
    --mem) MEM=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "check-kernel-6.1: $*" >&2; exit 2; }
log() { echo "== $*"; }
[ "$(id -u)" = 0 ] || die "must run as root (mounts, user namespaces)"
mkdir -p "$CACHE"
# One run at a time per tree (the staging directory and logs are shared).
exec 9> "$CACHE/.lock"
flock 9

# ---------------------------------------------------------------- tools
need_pkgs=()
command -v gcc >/dev/null || need_pkgs+=(gcc libc6-dev)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || need_pkgs+=(libc6-dev)
command -v mkfs.ext4 >/dev/null || need_pkgs+=(e2fsprogs)
if [ "$RUN_GUEST" = 1 ]; then
  command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
  command -v cpio >/dev/null || need_pkgs+=(cpio)
  # The initramfs needs the statically linked busybox (the "busybox" package's is dynamic).
  dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=(busybox-static)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/dev/null; } ||
    die "apt-get install ${need_pkgs[*]} failed"
fi

# ---------------------------------------------------------------- the check program
CHECK=$CACHE/check-idmap
if [ ! -x "$CHECK" ] || [ "$ROOT/native/check-idmap.c" -nt "$CHECK" ]; then
  gcc -static -O2 -Wall -o "$CHECK.tmp" "$ROOT/native/check-idmap.c" || die "building check-idmap failed"
  mv "$CHECK.tmp" "$CHECK"
fi
EXT4_IMG=$CACHE/ext4.img
make_ext4_img() { rm -f "$1"; mkfs.ext4 -q -F -L idmapcheck "$1" 16M >/dev/null || die "mkfs.ext4 failed"; }

HOST_RC=skipped
GUEST_RC=skipped
BOOT_SECS=
HOST_OUT=$CACHE/host.out
GUEST_OUT=$CACHE/guest-6.1.out
rm -f "$HOST_OUT" "$GUEST_OUT"

# ---------------------------------------------------------------- host kernel
if [ "$RUN_HOST" = 1 ]; then
  log "host kernel $(uname -r)"
  dir=$CACHE/host-scratch
  mkdir -p "$dir"
  mnt=
  if [ "$(stat -f -c %t "$dir")" != ef53 ]; then
    # Not on ext4: use a loop-mounted ext4 image.
    make_ext4_img "$CACHE/host-ext4.img"
    mnt=$(mktemp -d)
    mount -o loop "$CACHE/host-ext4.img" "$mnt" || die "loop-mounting an ext4 image failed"
    dir=$mnt
  fi
  set +e
  "$CHECK" "$dir" > "$HOST_OUT" 2>&1
  HOST_RC=$?
  set -e
  [ -n "$mnt" ] && { umount "$mnt"; rmdir "$mnt"; rm -f "$CACHE/host-ext4.img"; }
  sed 's/^/[host] /' "$HOST_OUT"
fi

# ---------------------------------------------------------------- Linux 6.1 under qemu
if [ "$RUN_GUEST" = 1 ]; then
  # bookworm's linux-image-amd64 depends on exactly one linux-image-6.1.*-amd64.
  PKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\.[0-9.-]+-amd64$/ { print $2; exit }')
  [ -n "$PKG" ] || die "apt-cache: linux-image-amd64 does not depend on a linux-image-6.1.*-amd64 (need bookworm's sources in apt)"
  VER=$(apt-cache policy "$PKG" | awk '/Candidate:/ { print $2 }')
  DEB=$(ls "$CACHE/${PKG}_"*"_amd64.deb" 2>/dev/null | head -n1 || true)
  if [ -z "$DEB" ]; then
    log "downloading $PKG $VER"
    (cd "$CACHE" && apt-get download -q -o APT::Sandbox::User=root "$PKG" >/dev/null) || die "apt-get download $PKG failed"
    DEB=$(ls "$CACHE/${PKG}_"*"_amd64.deb" | head -n1)
  fi
  KDIR=$CACHE/${PKG}
  if [ ! -e "$KDIR/.extracted" ]; then
    rm -rf "$KDIR"
    mkdir -p "$KDIR"
    dpkg-deb -x "$DEB" "$KDIR"
    touch "$KDIR/.extracted"
  fi
  KREL=${PKG#linux-image-}
  VMLINUZ=$KDIR/boot/vmlinuz-$KREL
  CONFIG=$KDIR/boot/config-$KREL
  MODDIR=$KDIR/lib/modules/$KREL
  [ -f "$VMLINUZ" ] && [ -f "$CONFIG" ] || die "$DEB has no vmlinuz/config for $KREL"
  log "guest kernel $PKG $(basename "$DEB" .deb | cut -d_ -f2)"

  # Modules the check needs: built in (=y) or loaded with insmod (=m), dependencies first.
  declare -A seen=()
  order=()
  modfile() { find "$MODDIR" -name "$1.ko" -o -name "$1.ko.xz" | head -n1; }
  add_mod() {
    local m=$1 f deps d
    [ -n "${seen[$m]:-}" ] && return 0
    seen[$m]=1
    f=$(modfile "$m")
    [ -n "$f" ] || die "module $m not found in $PKG"
    if [[ $f == *.xz ]]; then deps=$(xz -dc "$f" | tr '\0' '\n' | sed -n 's/^depends=//p'); else deps=$(tr '\0' '\n' < "$f" | sed -n 's/^depends=//p'); fi
    for d in ${deps//,/ }; do add_mod "$d"; done
    order+=("$m:$f")
  }
  for pair in CONFIG_CRYPTO_CRC32C:crc32c_generic CONFIG_BLK_DEV_LOOP:loop CONFIG_EXT4_FS:ext4 CONFIG_OVERLAY_FS:overlay; do
    opt=${pair%%:*}
    val=$(sed -n "s/^$opt=//p" "$CONFIG")
    case "$val" in
      y) ;;
      m) add_mod "${pair#*:}" ;;
      *) die "$PKG has $opt=${val:-unset}" ;;
    esac
  done
  for opt in CONFIG_TMPFS CONFIG_USER_NS CONFIG_DEVTMPFS CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP CONFIG_SERIAL_8250_CONSOLE; do
    grep -qx "$opt=y" "$CONFIG" || die "$PKG needs $opt=y"
  done

  # The initramfs: busybox, the check, the modules, a fresh ext4 image, init.
  STAGE=$CACHE/initramfs
  rm -rf "$STAGE"
  mkdir -p "$STAGE"/{bin,dev,proc,sys,mnt,modules}
  cp "$(dpkg -L busybox-static | grep -m1 '/busybox$')" "$STAGE/bin/busybox"
  cp "$CHECK" "$STAGE/check-idmap"
  mknod "$STAGE/dev/console" c 5 1
  : > "$STAGE/modules/order"
  for e in "${order[@]}"; do
    m=${e%%:*}
    f=${e#*:}
    if [[ $f == *.xz ]]; then xz -dc "$f" > "$STAGE/modules/$m.ko"; else cp "$f" "$STAGE/modules/$m.ko"; fi
    echo "$m" >> "$STAGE/modules/order"
  done
  make_ext4_img "$STAGE/ext4.img"
  cat > "$STAGE/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo "@@GUEST-UP $(cut -d' ' -f1 /proc/uptime)"
for m in $(cat /modules/order); do
  insmod /modules/$m.ko || echo "FAIL insmod-$m"
done
i=0
while [ ! -e /dev/loop-control ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if mount -t ext4 -o loop /ext4.img /mnt; then
  echo "@@CHECK-BEGIN"
  /check-idmap /mnt
  echo "@@CHECK-END rc=$?"
  umount /mnt
else
  echo "FAIL mount-ext4-image"
  echo "@@CHECK-END rc=2"
fi
echo "@@GUEST-DONE $(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
EOF
  chmod 755 "$STAGE/init"
  (cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1 > "$CACHE/initramfs.cpio.gz")
  log "initramfs $(du -k "$CACHE/initramfs.cpio.gz" | cut -f1) KiB (modules: $(tr '\n' ' ' < "$STAGE/modules/order"))"

  log "booting under qemu (TCG, ${MEM} MiB, timeout ${TIMEOUT}s)"
  t0=$(date +%s.%N)
  set +e
  # -nic none: no network card, so no iPXE option ROM to load (the guest needs no network).
  timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 -nographic -no-reboot -m "$MEM" -nic none \
    -kernel "$VMLINUZ" -initrd "$CACHE/initramfs.cpio.gz" \
    -append "console=ttyS0 panic=-1 quiet" < /dev/null > "$CACHE/guest-6.1.log" 2>&1
  qrc=$?
  set -e
  t1=$(date +%s.%N)
  BOOT_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  # The serial console log without carriage returns and terminal escapes.
  CLEAN=$CACHE/guest-6.1.txt
  tr -d '\r' < "$CACHE/guest-6.1.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[c]//g' > "$CLEAN"
  sed -n '/^@@CHECK-BEGIN/,/^@@CHECK-END/p' "$CLEAN" | grep -v '^@@' > "$GUEST_OUT" || true
  grep -E '^FAIL (insmod|mount-ext4)' "$CLEAN" >> "$GUEST_OUT" || true
  sed 's/^/[6.1] /' "$GUEST_OUT"
  end=$(sed -n 's/^@@CHECK-END rc=//p' "$CLEAN" | head -n1)
  if [ -n "$end" ]; then
    GUEST_RC=$end
  elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    GUEST_RC=124
    echo "[6.1] guest timed out after ${TIMEOUT}s; console log: $CACHE/guest-6.1.log" >&2
    tail -n 20 "$CLEAN" >&2
  else
    GUEST_RC=2
    echo "[6.1] guest ended without a result (qemu exit $qrc); console log: $CACHE/guest-6.1.log" >&2
    tail -n 20 "$CLEAN" >&2
  fi
  UP=$(grep -ao '@@GUEST-UP [0-9.]*' "$CLEAN" | head -n1 | cut -d' ' -f2 || true)
  DONE=$(grep -ao '@@GUEST-DONE [0-9.]*' "$CLEAN" | head -n1 | cut -d' ' -f2 || true)
fi

# ---------------------------------------------------------------- summary
count() { if [ -f "$1" ]; then grep -c "^$2 " "$1" || true; else echo 0; fi; }
echo "== summary"
if [ "$RUN_HOST" = 1 ]; then
  echo "host $(uname -r): $(count "$HOST_OUT" PASS) PASS, $(count "$HOST_OUT" FAIL) FAIL, exit $HOST_RC"
fi
if [ "$RUN_GUEST" = 1 ]; then
  echo "guest ${KREL:-6.1}: $(count "$GUEST_OUT" PASS) PASS, $(count "$GUEST_OUT" FAIL) FAIL, exit $GUEST_RC"
  if [ "$GUEST_RC" = 124 ]; then
    echo "guest boot: timed out after ${TIMEOUT}s"
  else
    echo "guest boot: qemu wall time ${BOOT_SECS}s (start to poweroff); guest uptime at init ${UP:-?}s, at poweroff ${DONE:-?}s"
  fi
  if [ "$RUN_HOST" = 1 ]; then
    # Steps whose result differs between the two kernels.
    join -a1 -a2 -e MISSING -o 0,1.2,2.2 \
      <(sed -n 's/^\(PASS\|FAIL\) \([^:]*\).*/\2 \1/p' "$HOST_OUT" | sort) \
      <(sed -n 's/^\(PASS\|FAIL\) \([^:]*\).*/\2 \1/p' "$GUEST_OUT" | sort) |
      awk '$2 != $3 { printf "differs: %s host=%s 6.1=%s\n", $1, $2, $3 }'
  fi
fi
rc=0
for r in "$HOST_RC" "$GUEST_RC"; do
  if [ "$r" != skipped ] && [ "$r" -gt "$rc" ]; then rc=$r; fi
done
exit "$rc"
