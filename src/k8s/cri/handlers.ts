// The runtime handlers a containerd's CRI serves, from Status: runtime_handlers (containerd
// ≥ 2.0) or, on 1.6/1.7, the runtimes table of the verbose config.
import type { CriClient } from './client.js';

export async function runtimeHandlerNames(cri: CriClient): Promise<string[]> {
  const st = await cri.status(true);
  const names = new Set((st.runtime_handlers ?? []).map((h) => h.name).filter(Boolean));
  const config = st.info?.['config'];
  if (config) {
    try {
      const c = JSON.parse(config) as { containerd?: { runtimes?: Record<string, unknown> } };
      for (const n of Object.keys(c.containerd?.runtimes ?? {})) names.add(n);
    } catch { /* not JSON */ }
  }
  return [...names];
}
