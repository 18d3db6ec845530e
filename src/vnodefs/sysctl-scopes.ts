// Sysctl values shared by the vnodefs entries of one vNode (one entry per pod).
/** Sysctl value sets shared by the entries of one scope, dropped with its last entry. */
export class SysctlScopes {
  private readonly scopes = new Map<string, { values: Map<string, string>; users: number }>();

  acquire(scope: string, initial: Record<string, string> | undefined): Map<string, string> {
    let s = this.scopes.get(scope);
    if (!s) this.scopes.set(scope, (s = { values: new Map(Object.entries(initial ?? {})), users: 0 }));
    s.users++;
    return s.values;
  }

  release(scope: string): void {
    const s = this.scopes.get(scope);
    if (s && --s.users === 0) this.scopes.delete(scope);
  }
}
