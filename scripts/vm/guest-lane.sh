#!/usr/bin/env bash
# Runs INSIDE the VM lane's guest, as root, from the image's vnode-lane.service (which mounts
# the tree disk on /vnode, sends this script's output to the second serial port and powers
# the guest off afterwards). scripts/vm/lane.sh reads the output; lines starting with "@@"
# are for it. The test filters are in /vnode/.vm-lane/filters (written by lane.sh).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
cd /vnode || exit 3
echo "@@GUEST-UP $(cut -d' ' -f1 /proc/uptime)"

# The tests look for containerd 1.7 and 2.x in the tree's .cache; the image carries them.
mkdir -p .cache
ln -sfn /opt/vnode/containerd .cache/containerd

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

mapfile -t filters < <(grep -v '^[[:space:]]*$' .vm-lane/filters)
[ "${#filters[@]}" -gt 0 ] || { echo "vm lane: no test filters in .vm-lane/filters"; exit 2; }
echo "[guest] $(nproc) vCPU, $(awk '/MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo), node $(node --version), containerd $(/usr/bin/containerd --version | awk '{print $3}')/$(.cache/containerd/1.7/usr/bin/containerd --version | awk '{print $3}')/$(.cache/containerd/2/usr/bin/containerd --version | awk '{print $3}'), runc $(runc --version | awk 'NR == 1 {print $3}'), crun $(crun --version | awk 'NR == 1 {print $3}')"
# The lane's environment for the tests (test/vm/lane.json "env"), NAME=VALUE per line.
while IFS= read -r kv; do
  [ -n "$kv" ] && export "${kv?}"
done < <(cat .vm-lane/env 2>/dev/null)
echo "[guest] $(cat .vm-lane/env 2>/dev/null | tr '\n' ' ')node scripts/test.mjs integration ${filters[*]}"
t0=$(cut -d' ' -f1 /proc/uptime)
node scripts/test.mjs integration "${filters[@]}" 2>&1 | tee /tmp/vm-lane-tests.out
rc=${PIPESTATUS[0]}
t1=$(cut -d' ' -f1 /proc/uptime)
echo "@@TESTS-SECS $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' /tmp/vm-lane-tests.out | tail -n1)
echo "@@SUMMARY ${summary:-no summary line from scripts/test.mjs}"
# Leftovers the tests should have cleaned up (reported, not fatal: the guest is thrown away).
left=$(awk '$5 != "/vnode" && /vnode/' /proc/self/mountinfo | wc -l)
[ "$left" = 0 ] || echo "[guest] warning: $left vnode mounts left after the tests"
exit "$rc"
