// The security battery: what the strongest pod a tenant can ask for — privileged: true,
// hostPID: true, hostNetwork: true — can do to the host from inside a vNode, attempt by
// attempt, and the same attempts under containerd's `runc` handler as the contrast.
// Every attempt must fail in the vNode and leave the host as it was. Attempts that would
// change the host under runc only open for write or write back the value already there.
// docs/seccomp.md records the two columns.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { criEnv, CriError, sleep, withPod, type CriEnv } from '../../support/cri.js';
import { vnodeSuite } from '../../support/vnode-host.js';

const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';

/** The host's first disk from /proc/partitions: name and numbers. */
function hostDisk(): { name: string; major: number; minor: number } {
  const line = readFileSync('/proc/partitions', 'utf8').split('\n').slice(2).find((l) => l.trim());
  const [major, minor, , name] = line!.trim().split(/\s+/);
  return { name: name!, major: Number(major), minor: Number(minor) };
}

const HOST_SYSCTLS = ['/proc/sys/kernel/core_pattern', '/proc/sys/vm/swappiness', '/proc/sys/kernel/panic'];

/**
 * The attempts, as one busybox script. host_paths goes through this test process's
 * /proc/<pid>/root (a host process: under runc's hostPID it is visible). Each prints `<name>=ALLOWED[: what]` or
 * `<name>=DENIED: <the error>`. `changeSysctls` = 1 writes new values (the vNode run,
 * where they must stay in the vNode), 0 writes back the current ones (the runc run).
 */
function batteryScript(disk: { name: string; major: number; minor: number }, marker: string, changeSysctls: boolean, hostPaths: string[]): string {
  return `
try() { name=$1; shift; if out=$("$@" 2>&1); then echo "$name=ALLOWED\${out:+: $(echo "$out" | head -1)}"; else echo "$name=DENIED: $(echo "$out" | head -1)"; fi; }
cd /tmp
try disk_mknod mknod /tmp/hostdisk b ${disk.major} ${disk.minor}
try disk_read sh -c 'head -c 512 /tmp/hostdisk 2>&1 >/dev/null || head -c 512 /dev/${disk.name} >/dev/null'
try disk_mount sh -c 'mkdir -p /tmp/hd && (mount /tmp/hostdisk /tmp/hd 2>/dev/null || mount /dev/${disk.name} /tmp/hd)'
try userns unshare -Ur true
try bpf sh -c 'syscall-probe bpf | grep "=OK"'
try module sh -c 'syscall-probe finit_module init_module | grep "=OK"'
for f in ${HOST_SYSCTLS.join(' ')}; do
  n=sysctl_$(basename $f)
  ${changeSysctls ? `try $n sh -c "echo 42 > $f && cat $f"` : `try $n sh -c "cat $f > /tmp/v && cat /tmp/v > $f"`}
done
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2: release_agent and notify_on_release exist only in a v1 hierarchy, so the
  # attempts mount a named v1 one (CVE-2022-0492's way); the limit is memory.max
  try release_agent sh -c 'mkdir -p /tmp/cg && mount -t cgroup -o none,name=vnodetest cg /tmp/cg && : > /tmp/cg/release_agent && echo "opened /tmp/cg/release_agent for write"'
  try notify_on_release sh -c 'mkdir -p /tmp/cg; grep -q " /tmp/cg " /proc/mounts || mount -t cgroup -o none,name=vnodetest cg /tmp/cg; f=/tmp/cg/notify_on_release; cat $f > /tmp/v && cat /tmp/v > $f'
  # the caller's own cgroup (a vNode's cgroupns is rooted there; runc's privileged one is the host's)
  try cgroup_limit sh -c 'f=/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)/memory.max; cat $f > /tmp/v && cat /tmp/v > $f'
  umount /tmp/cg 2>/dev/null
else
  try release_agent sh -c 'mkdir -p /tmp/cg && mount -t cgroup -o memory cg /tmp/cg 2>/dev/null; f=/tmp/cg/release_agent; [ -e $f ] || f=/sys/fs/cgroup/memory/release_agent; : > $f && echo "opened $f for write"'
  try notify_on_release sh -c 'f=/sys/fs/cgroup/memory/notify_on_release; cat $f > /tmp/v && cat /tmp/v > $f'
  try cgroup_limit sh -c 'f=/sys/fs/cgroup/memory/memory.limit_in_bytes; cat $f > /tmp/v && cat /tmp/v > $f'
fi
try host_pid1 sh -c 'c=$(cat /proc/1/comm); [ "$c" = "$HOST_PID1_COMM" ] && echo "PID 1 is the host init ($c)" || { echo "PID 1 is $c" >&2; exit 1; }'
other() { p=$(ps -o pid,args | grep "${marker}" | grep -v grep | head -1 | awk '{print $1}'); [ -n "$p" ] || { echo "no process of the other pod is visible" >&2; return 1; }; }
visible() { other && echo "pid $p"; }
root_of() { other && ls /proc/$p/root/ | head -1; }
signal() { other && kill -0 $p; }
try other_pod_visible visible
try other_pod_root root_of
try other_pod_signal signal
try host_paths ls -d ${hostPaths.map((h) => `/proc/${process.pid}/root${h}`).join(' ')}
try sysrq_trigger sh -c '[ "$(stat -c %t:%T /proc/sysrq-trigger)" != "1:3" ] && : > /proc/sysrq-trigger && echo "opened for write"'
try kcore sh -c 'n=$(head -c 16 /proc/kcore | wc -c); [ "$n" -gt 0 ] && echo "read $n bytes"'
try dev_mem head -c 1 /dev/mem
try dev_kmsg sh -c 'head -c 64 /dev/kmsg > /dev/null'
`;
}

function parse(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) r[line.slice(0, i)] = line.slice(i + 1);
  }
  return r;
}

async function battery(env: CriEnv, cid: string, marker: string, changeSysctls: boolean, hostPaths: string[]): Promise<Record<string, string>> {
  const hostPid1 = readFileSync('/proc/1/comm', 'utf8').trim();
  const script = `export HOST_PID1_COMM='${hostPid1}'\n${batteryScript(hostDisk(), marker, changeSysctls, hostPaths)}`;
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 60);
  return parse(r.stdout.toString());
}

/** The CVE-2019-5736 pattern: watch for runc in the PID namespace while execs enter a container, and open its executable. */
async function exeWatch(env: CriEnv, cid: string, target: string): Promise<Record<string, string>> {
  const watch = env.cri.execSync(cid, ['syscall-probe', 'exe-watch', '4'], 30);
  await sleep(300);
  for (let i = 0; i < 6; i++) await env.cri.execSync(target, ['true'], 10);
  return parse((await watch).stdout.toString());
}

const STRONGEST = { privileged: true, hostPID: true, hostNetwork: true };

describe(`security battery: privileged + hostPID + hostNetwork (containerd ${version})`, () => {
  const suite = vnodeSuite({ version });

  it('in a vNode every attempt fails and the host is unchanged', async () => {
    const sysctlsBefore = HOST_SYSCTLS.map((f) => readFileSync(f, 'utf8'));
    const marker = 'sleep 7777';
    await withPod(suite.env, { namespace: 'battery-other' }, async (other) => {
      const oc = await other.runContainer({ name: 'o', command: ['sh', '-c', `exec ${marker}`] });
      await other.waitForState(oc, 'CONTAINER_RUNNING');
      await withPod(suite.env, { namespace: 'battery', ...STRONGEST }, async (pod) => {
        const cid = await pod.runContainer({ name: 'attacker', command: ['sleep', '3600'], privileged: true });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        const got = await battery(suite.env, cid, marker, true, [suite.ctd.dir, '/run/vnode']);
        console.log(`# vnode: ${JSON.stringify(got)}`);
        const denied = ['disk_mknod', 'disk_read', 'disk_mount', 'userns', 'bpf', 'module', 'release_agent', 'notify_on_release', 'cgroup_limit', 'host_pid1', 'other_pod_visible', 'other_pod_root', 'other_pod_signal', 'host_paths', 'sysrq_trigger', 'kcore', 'dev_mem', 'dev_kmsg'];
        for (const k of denied) assert.match(got[k] ?? 'missing', /^DENIED/, `${k}: ${got[k]}`);
        assert.match(got.disk_mknod!, /Operation not permitted/);
        assert.match(got.userns!, /Operation not permitted/);
        assert.match(got.cgroup_limit!, /Permission denied|Operation not permitted|Read-only/);
        // sysctls: the vNode reads back its own value; the host's stay
        for (const f of HOST_SYSCTLS) assert.match(got[`sysctl_${f.split('/').pop()}`]!, /^ALLOWED: 42$/);
        assert.deepEqual(HOST_SYSCTLS.map((f) => readFileSync(f, 'utf8')), sysctlsBefore, "the host's sysctls did not change");
        // runc exec into the other container of this vNode: its runc is visible here, its executable is not
        const w = await exeWatch(suite.env, cid, (await pod.runContainer({ name: 'target', command: ['sleep', '3600'] })));
        console.log(`# vnode exe-watch: ${JSON.stringify(w)}`);
        assert.ok(Number(w.runc_seen) > 0, `runc was visible while it exec'd: ${JSON.stringify(w)}`);
        assert.deepEqual([w.runc_exe_opened, w.runc_exe_errno], ['0', 'EACCES']);
        // the pod still works afterwards
        assert.equal((await suite.env.cri.execSync(cid, ['echo', 'alive'], 10)).stdout.toString(), 'alive\n');
      });
    });
  });

  it('refuses the leaked-descriptor working directory (CVE-2024-21626 pattern) and keeps the pod working', async () => {
    await withPod(suite.env, { namespace: 'battery-cwd', ...STRONGEST }, async (pod) => {
      for (const fd of [3, 4, 5, 6, 7, 8, 9]) {
        await assert.rejects(
          pod.runContainer({ name: `cwd${fd}`, command: ['sh', '-c', 'ls ..; sleep 100'], workingDir: `/proc/self/fd/${fd}`, privileged: true }),
          (e: unknown) => e instanceof CriError && /runc create failed: .*(\/proc\/self\/fd\/\d: (not a directory|no such file)|chdir to cwd)/.test(e.details),
        );
      }
      const ok = await pod.runContainer({ name: 'ok', command: ['sleep', '3600'], privileged: true });
      await pod.waitForState(ok, 'CONTAINER_RUNNING');
      assert.equal((await suite.env.cri.execSync(ok, ['echo', 'alive'], 10)).stdout.toString(), 'alive\n');
    });
  });

  it('under runc (privileged, the reference) the same attempts reach the host', async () => {
    const runc = criEnv(suite.ctd, 'runc');
    const sysctlsBefore = HOST_SYSCTLS.map((f) => readFileSync(f, 'utf8'));
    const marker = 'sleep 7778';
    await withPod(runc, { namespace: 'battery-runc-other' }, async (other) => {
      const oc = await other.runContainer({ name: 'o', command: ['sh', '-c', `exec ${marker}`] });
      await other.waitForState(oc, 'CONTAINER_RUNNING');
      await withPod(runc, { namespace: 'battery-runc', ...STRONGEST }, async (pod) => {
        const cid = await pod.runContainer({ name: 'attacker', command: ['sleep', '3600'], privileged: true });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        const got = await battery(runc, cid, marker, false, [suite.ctd.dir, '/run/vnode']);
        console.log(`# runc: ${JSON.stringify(got)}`);
        const w = await exeWatch(runc, cid, await pod.runContainer({ name: 'target', command: ['sleep', '3600'] }));
        console.log(`# runc exe-watch: ${JSON.stringify(w)}`);
        assert.ok(Number(w.runc_exe_opened) > 0, `the runc executable could be opened: ${JSON.stringify(w)}`);
        // (this kernel has no /proc/kcore or /proc/sysrq-trigger, and no /dev/mem: neither column can try those)
        for (const k of ['disk_mknod', 'userns', 'bpf', 'sysctl_core_pattern', 'sysctl_swappiness', 'release_agent', 'notify_on_release', 'cgroup_limit', 'host_pid1', 'other_pod_visible', 'other_pod_root', 'other_pod_signal', 'host_paths', 'dev_kmsg']) {
          assert.match(got[k] ?? 'missing', /^ALLOWED/, `runc+privileged allows ${k}: ${got[k]}`);
        }
      });
    });
    assert.deepEqual(HOST_SYSCTLS.map((f) => readFileSync(f, 'utf8')), sysctlsBefore, 'the contrast wrote back the values it found');
  });
});
