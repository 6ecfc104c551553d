/** What a CLI command printed, and its exit code. */
export interface Captured {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a CLI command function with process.stdout and process.stderr captured, restoring them after. */
export async function captureOutput(run: () => Promise<number>): Promise<Captured> {
  let out = '', err = '';
  const stdout = process.stdout.write.bind(process.stdout), stderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => { out += String(chunk); return true; });
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; });
  try {
    return { code: await run(), out, err };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}
