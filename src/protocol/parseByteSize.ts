const UNITS: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
  k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40,
};

/**
 * A memory size as people write it: `24GiB`, `80 GB`, `16g`, `512MiB`, or plain bytes. GB is
 * 10⁹ and GiB 2³⁰, as the units say; a bare letter (`24g`) means the binary unit, as `free -g`
 * does. Throws a message that follows "must" for anything else.
 */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new RangeError('be a size such as 24GiB, 80GB, 512MiB or a number of bytes');
  const bytes = Number(m[1]) * unit;
  if (!(bytes > 0) || !Number.isFinite(bytes)) throw new RangeError('be a positive size');
  return Math.round(bytes);
}
