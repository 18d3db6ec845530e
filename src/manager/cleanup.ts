// PLACEHOLDER created by the shim engineer so `containerd-shim-vnode-v2 delete` links;
// the runtime core replaces it (same signature). Until then it reports what containerd's
// runc shim reports for a task whose process is gone: killed (128 + SIGKILL), now.
export async function cleanupDeadTask(o: { namespace: string; id: string; bundle: string; containerdAddress: string }): Promise<{ pid: number; exitStatus: number; exitedAt: Date }> {
  void o;
  return { pid: 0, exitStatus: 137, exitedAt: new Date() };
}
