#!/usr/bin/env bash
# Runs INSIDE the VM lane's guest, as root, from the image's vnode-lane.service (which mounts
# the tree disk on /vnode, sends this script's output to the second serial port and powers
# the guest off afterwards). scripts/vm/lane.sh reads the output; lines starting with "@@"
# are for it. The passes (test filters and environment) are in /vnode/.vm-lane/passes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
cd /vnode || exit 3
echo "@@GUEST-UP $(cut -d' ' -f1 /proc/uptime)"

# The tests look for containerd 1.7 and 2.x in the tree's .cache; the image carries them.
mkdir -p .cache
ln -sfn /opt/vnode/containerd .cache/containerd
# ... and trixie's crun (VNODE_TEST_RUNTIME=crun) in .cache/crun
[ -d /opt/vnode/crun ] && ln -sfn /opt/vnode/crun .cache/crun

# cgroup mode: v2 only means /sys/fs/cgroup is cgroup2 and no v1 hierarchy is mounted.
fstype=$(stat -f -c %T /sys/fs/cgroup)
v1=$(awk '$3 == "cgroup"' /proc/mounts | wc -l)
controllers=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || true)
echo "@@UNAME $(uname -r)"
if [ "$fstype" = cgroup2fs ] && [ "$v1" = 0 ]; then
  echo "@@CGROUP v2 (unified, controllers: $controllers)"
else
  echo "@@CGROUP NOT v2-only: /sys/fs/cgroup is $fstype, $v1 cgroup v1 hierarchies mounted"
  exit 4
fi

[ -s .vm-lane/passes ] || { echo "vm lane: no passes in .vm-lane/passes"; exit 2; }
echo "[guest] $(nproc) vCPU, $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo), node $(node --version), containerd $(/usr/bin/containerd --version | awk '{print $3}')/$(.cache/containerd/1.7/usr/bin/containerd --version | awk '{print $3}')/$(.cache/containerd/2/usr/bin/containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR == 1 {print $3}'), crun $(crun --version | awk 'NR == 1 {print $3}') (trixie's $(.cache/crun/bin/crun --version 2>/dev/null | awk 'NR == 1 {print $3}'))"
# Each pass (lane.sh writes "name|NAME=VALUE ...|filter ...|command" lines): its
# environment, then the test runner on its filters (or its command). The counts of all passes are added up.
secs_since() { awk -v a="$1" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.0f", b - a }'; }
t0=$(cut -d' ' -f1 /proc/uptime)
rc=0 passed=0 failed=0 skipped=0 n=0
while IFS='|' read -r name env tests command; do
  n=$((n + 1))
  pass_t0=$(cut -d' ' -f1 /proc/uptime)
  read -ra filters <<< "$tests"
  read -ra vars <<< "$env"
  if [ -n "$command" ]; then
    # a command pass (a benchmark): its exit status counts, it has no test counts
    echo "[guest] pass $n ($name): ${env:+$env }$command"
    env "${vars[@]}" bash -c "$command" < /dev/null 2>&1
    prc=$?
    echo "[guest] pass $n ($name): exit $prc in $(secs_since "$pass_t0")s"
    [ "$prc" = 0 ] || rc=$prc
    continue
  fi
  echo "[guest] pass $n ($name): ${env:+$env }node scripts/test.mjs integration ${filters[*]}"
  env "${vars[@]}" node scripts/test.mjs integration "${filters[@]}" < /dev/null 2>&1 | tee "/tmp/vm-lane-pass-$n.out"
  prc=${PIPESTATUS[0]}
  [ "$prc" = 0 ] || rc=$prc
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "/tmp/vm-lane-pass-$n.out" | tail -n1)
  echo "[guest] pass $n ($name): ${line:-no summary line from scripts/test.mjs} in $(secs_since "$pass_t0")s"
  if [ -n "$line" ]; then
    read -r p _ f _ s _ <<< "${line//,/}"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  else
    failed=$((failed + 1)); [ "$rc" != 0 ] || rc=1
  fi
done < .vm-lane/passes
echo "@@TESTS-SECS $(secs_since "$t0")"
echo "@@SUMMARY $passed passed, $failed failed, $skipped skipped"
# Leftovers the tests should have cleaned up (reported, not fatal: the guest is thrown away).
left=$(awk '$5 != "/vnode" && /vnode/' /proc/self/mountinfo | wc -l)
[ "$left" = 0 ] || echo "[guest] warning: $left vnode mounts left after the tests"
exit "$rc"
