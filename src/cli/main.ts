// Entry point of the cli component (placeholder until it lands).
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('cli: not built yet\n');
  return 1;
}
