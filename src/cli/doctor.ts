export async function doctorCommand(_argv: string[]): Promise<number> {
  return 1;
}
