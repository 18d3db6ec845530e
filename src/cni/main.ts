// Entry point of the cni component (placeholder until it lands).
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('cni: not built yet\n');
  return 1;
}
