// Entry point of the shim component (placeholder until it lands).
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('shim: not built yet\n');
  return 1;
}
