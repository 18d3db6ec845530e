export async function psCommand(_argv: string[]): Promise<number> {
  return 1;
}
