#!/usr/bin/env bash
# The VM lane (npm run test:vm; docs/vm-lane.md): runs integration tests in a Debian bookworm
# guest with Linux 6.1 and cgroup v2 only, booted under qemu (KVM when it boots a stock
# kernel here, TCG otherwise).
#
#   bash scripts/vm/lane.sh                  the tests listed in test/vm/lane.json
#   bash scripts/vm/lane.sh FILTER...        other scripts/test.mjs path filters instead
#
# 1. builds the guest image once (scripts/vm/build-image.sh, cached under .cache/vm/),
# 2. puts the built tree (the checkout without .git and .cache) on a fresh ext4 disk,
# 3. boots the guest: its vnode-lane.service runs scripts/vm/guest-lane.sh from that disk,
#    which runs `node scripts/test.mjs integration FILTER...` and powers off,
# 4. prints the guest's output as it comes, then timings, the guest's `uname -r`, its cgroup
#    mode and, last, the test runner's "N passed, N failed, N skipped".
# Exit status: 0 when the tests pass; the tests' status when they fail; 2 on a setup error;
# 3 when the guest does not boot or ends without a result; 124 on timeout.
# Env: VNODE_VM_ACCEL=kvm|tcg (skip the probe), VNODE_VM_MEM (MiB, 4096), VNODE_VM_SMP (2),
#      VNODE_VM_BOOT_TIMEOUT (s until the lane starts in the guest, 600),
#      VNODE_VM_TIMEOUT (s for the whole guest run, 3000), VNODE_VM_REBUILD=1,
#      VNODE_VM_CACHE (the image cache and run directory, .cache/vm).
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MEM=${VNODE_VM_MEM:-4096}
SMP=${VNODE_VM_SMP:-2}
BOOT_TIMEOUT=${VNODE_VM_BOOT_TIMEOUT:-600}
TIMEOUT=${VNODE_VM_TIMEOUT:-3000}

say() { printf '[vm] %s\n' "$*"; }
die() { printf '[vm] error: %s\n' "$1" >&2; exit "${2:-2}"; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, mkfs, qemu)"
now() { date +%s; }
trap 'printf "[vm] error: line %s: %s failed\n" "$LINENO" "$BASH_COMMAND" >&2' ERR
T_START=$(now)

bash "$ROOT/scripts/vm/setup.sh"
for f in bin/containerd-shim-vnode-v2 dist/vnode.mjs node_modules/.bin/tsx; do
  [ -e "$ROOT/$f" ] || die "$f is missing: run npm ci and npm run build first"
done

LANE_JSON="${VNODE_VM_LANE_JSON:-$ROOT/test/vm/lane.json}"
# The lane's passes (lane.json "passes"): each a name, test filters (or a shell command,
# e.g. a benchmark) and an environment, as lines "name|NAME=VALUE ...|filter ...|command";
# variables set for this script win over a
# pass's env (e.g. VNODE_TEST_CONTAINERD_VERSIONS=1.6,1.7,2). FILTERs on the command line
# make one pass with them and the first pass's environment.
PASSES=$(node -e '
  const lane = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const cli = process.argv.slice(2);
  const passes = cli.length ? [{ name: "command line", env: lane.passes[0]?.env ?? {}, tests: cli }] : lane.passes;
  for (const p of passes) {
    if (!p.tests?.length && !p.command) continue;
    const env = Object.entries(p.env ?? {}).map(([k, v]) => `${k}=${process.env[k] ?? v}`);
    console.log([p.name, env.join(" "), (p.tests ?? []).join(" "), p.command ?? ""].join("|"));
  }' "$LANE_JSON" "$@")
[ -n "$PASSES" ] || die "no tests: test/vm/lane.json lists none"

# ---- 1. image ----------------------------------------------------------------------------
t0=$(now)
IMG=$(bash "$ROOT/scripts/vm/build-image.sh" | tail -n1)
[ -f "$IMG/.done" ] || die "no image from build-image.sh"
T_IMAGE=$(( $(now) - t0 ))

# One guest at a time on this machine (TCG takes every core it is given).
VMCACHE=$(realpath "${VNODE_VM_CACHE:-$ROOT/.cache/vm}")
exec 8> "$VMCACHE/.run.lock"
if ! flock -n 8; then
  say "another VM lane run holds $VMCACHE/.run.lock; waiting"
  flock 8
fi
RUN="$VMCACHE/run"
QPID=
TPID=
cleanup() {
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
    kill "$QPID" 2>/dev/null || true
    sleep 1
    kill -9 "$QPID" 2>/dev/null || true
  fi
  if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null || true; fi
  rm -rf "$RUN/stage" "$RUN/tree.img"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$RUN"
mkdir -p "$RUN"

# ---- 2. the tree disk --------------------------------------------------------------------
t0=$(now)
mkdir -p "$RUN/stage"
for e in "$ROOT"/* "$ROOT"/.[!.]*; do
  [ -e "$e" ] || continue
  case "$(basename "$e")" in .git|.cache|scratch|*.log) continue ;; esac
  # Hard links when the cache is on the same file system (mkfs only reads them).
  cp -al "$e" "$RUN/stage/" 2>/dev/null || cp -a "$e" "$RUN/stage/"
done
# Files of .cache the guest's tests need and cannot make without a network (lane.json
# "cache": globs below .cache, e.g. the workload images the host suite built).
mapfile -t CACHE_GLOBS < <(node -e 'for (const g of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).cache ?? []) console.log(g)' "$LANE_JSON")
for g in "${CACHE_GLOBS[@]}"; do
  for f in "$ROOT"/.cache/$g; do
    [ -e "$f" ] || { say "warning: lane.json cache entry $g matches nothing in .cache (the tests that need it will try to build it)"; continue; }
    rel=${f#"$ROOT"/}
    mkdir -p "$RUN/stage/$(dirname "$rel")"
    cp -al "$f" "$RUN/stage/$rel" 2>/dev/null || cp -a "$f" "$RUN/stage/$rel"
  done
done
mkdir -p "$RUN/stage/.vm-lane"
printf '%s\n' "$PASSES" > "$RUN/stage/.vm-lane/passes"
mkfs.ext4 -q -F -L vnodetree -d "$RUN/stage" "$RUN/tree.img" 8G > /dev/null || die "mkfs.ext4 -d of the tree failed"
rm -rf "$RUN/stage"
T_TREE=$(( $(now) - t0 ))

# ---- 3. boot -----------------------------------------------------------------------------
# /dev/kvm may exist and still not run a stock kernel (here it boots only PVM guests: qemu
# aborts or the guest hangs in the firmware). Probe: a working KVM reaches the kernel's "no
# root" panic within seconds.
accel=${VNODE_VM_ACCEL:-}
if [ -z "$accel" ]; then
  accel=tcg
  if [ -w /dev/kvm ]; then
    ( timeout -k 2 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -display none -monitor none -no-reboot -nic none \
      -serial "file:$RUN/kvm-probe.log" -kernel "$IMG/vmlinuz" -append "console=ttyS0 panic=-1 root=/dev/null" \
      < /dev/null > "$RUN/kvm-probe.err" 2>&1 || true ) 2>/dev/null
    if grep -q 'Kernel panic' "$RUN/kvm-probe.log" 2>/dev/null; then accel=kvm; fi
  fi
fi
case "$accel" in
  kvm) ACCEL=(-accel kvm -cpu host) ;;
  tcg) ACCEL=(-accel tcg,thread=multi -cpu max) ;;
  *) die "VNODE_VM_ACCEL must be kvm or tcg" ;;
esac
KREL=$(awk '$1 == "kernel" { print $2 }' "$IMG/manifest.txt")
say "image $(basename "$IMG") (kernel $KREL); booting under qemu ${accel^^} (${SMP} vCPU, ${MEM} MiB); $(wc -l <<< "$PASSES") pass(es): $(cut -d'|' -f1 <<< "$PASSES" | paste -sd, -)"
while IFS='|' read -r name env tests command; do say "  pass \"$name\": ${command:-$tests}${env:+ with $env}"; done <<< "$PASSES"
# cgroup v2 only: systemd's unified hierarchy (bookworm's default, stated) and no v1
# controllers at all. The root disk is a snapshot: the guest's writes never reach root.img.
APPEND="root=/dev/vda rw console=ttyS0 panic=-1 quiet systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all systemd.show_status=0"
: > "$RUN/lane.log"
T_BOOT0=$(now)
qemu-system-x86_64 "${ACCEL[@]}" -smp "$SMP" -m "$MEM" -display none -monitor none -no-reboot -nic none \
  -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" -append "$APPEND" \
  -drive "file=$IMG/root.img,format=raw,if=virtio,snapshot=on" \
  -drive "file=$RUN/tree.img,format=raw,if=virtio" \
  -serial "file:$RUN/console.log" -serial "file:$RUN/lane.log" \
  < /dev/null > "$RUN/qemu.err" 2>&1 &
QPID=$!
# The guest's lane output as it comes, without the "@@" lines meant for this script.
( tail -n +1 -f --pid="$QPID" "$RUN/lane.log" | sed -u 's/\r$//' | grep --line-buffered -v '^@@' ) &
TPID=$!

status=
T_UP=
while kill -0 "$QPID" 2>/dev/null; do
  sleep 2
  el=$(( $(now) - T_BOOT0 ))
  if [ -z "$T_UP" ] && grep -q '@@GUEST-UP' "$RUN/lane.log"; then T_UP=$el; fi
  if [ -z "$T_UP" ] && [ "$el" -ge "$BOOT_TIMEOUT" ]; then status=boot-timeout; break; fi
  if [ "$el" -ge "$TIMEOUT" ]; then status=timeout; break; fi
done
if [ -n "$status" ]; then
  kill "$QPID" 2>/dev/null || true
fi
wait "$QPID" 2>/dev/null || true
QPID=
wait "$TPID" 2>/dev/null || true
TPID=
T_GUEST=$(( $(now) - T_BOOT0 ))

# ---- 4. result ---------------------------------------------------------------------------
field() { tr -d '\r' < "$RUN/lane.log" | sed -n "s/^@@$1 //p" | tail -n1; }
console_tail() {
  echo "--- last lines of the guest console ($RUN/console.log) ---" >&2
  tr -d '\r' < "$RUN/console.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tail -n 25 >&2
  [ -s "$RUN/qemu.err" ] && { echo "--- qemu stderr ---" >&2; cat "$RUN/qemu.err" >&2; }
}
case "$status" in
  boot-timeout) console_tail; die "the guest did not start the lane within ${BOOT_TIMEOUT}s (VNODE_VM_BOOT_TIMEOUT)" 3 ;;
  timeout) console_tail; die "the guest run exceeded ${TIMEOUT}s (VNODE_VM_TIMEOUT)" 124 ;;
esac
EXIT=$(field LANE-EXIT)
if [ -z "$EXIT" ]; then
  console_tail
  if [ -z "$T_UP" ]; then die "the guest stopped before the lane started (boot failure)" 3; fi
  die "the guest stopped without a lane result" 3
fi
UP=$(field GUEST-UP)
CG=$(field CGROUP)
UN=$(field UNAME)
SUMMARY=$(field SUMMARY)
TESTS=$(field TESTS-SECS)
[ "$T_IMAGE" -le 2 ] && img_note="cached" || img_note="built"
say "times: image ${T_IMAGE}s ($img_note), tree disk ${T_TREE}s, boot to lane start ${T_UP:-?}s wall (guest uptime ${UP:-?}s), tests ${TESTS:-?}s, guest total ${T_GUEST}s, lane total $(( $(now) - T_START ))s"
say "logs: $RUN/lane.log, $RUN/console.log"
echo "uname -r: ${UN:-?}"
echo "cgroup: ${CG:-?}"
case "$EXIT" in
  0) ;;
  4) echo "vm lane: the guest is not cgroup v2-only" >&2 ;;
  *) echo "vm lane: FAILED in the guest (exit $EXIT)" >&2 ;;
esac
echo "${SUMMARY:-no summary line}"
exit "$EXIT"
