// The downward API's values of a pod's metadata, in kubelet's formats: labels and
// annotations as `key="value"` lines sorted by key (the value quoted as Go's %q
// does), no newline after the last one. Pure.

export interface PodMetadata {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Go's strconv.Quote for the strings labels and annotations hold. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export function formatMap(m: Record<string, string>): string {
  return Object.keys(m).sort().map((k) => `${k}=${goQuote(m[k]!)}`).join('\n');
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['([^']+)'\]$/;

/** The value of a (checked) fieldPath; a missing label or annotation is empty, as in kubelet. */
export function downwardValue(pod: PodMetadata, fieldPath: string): string {
  switch (fieldPath) {
    case 'metadata.name': return pod.name;
    case 'metadata.namespace': return pod.namespace;
    case 'metadata.uid': return pod.uid;
    case 'metadata.labels': return formatMap(pod.labels);
    case 'metadata.annotations': return formatMap(pod.annotations);
  }
  const m = SUBSCRIPT.exec(fieldPath);
  if (!m) throw new Error(`unchecked downward API field ${fieldPath}`);
  return (m[1] === 'labels' ? pod.labels : pod.annotations)[m[2]!] ?? '';
}
