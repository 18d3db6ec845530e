// Entry point of the manager component (placeholder until it lands).
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('manager: not built yet\n');
  return 1;
}
