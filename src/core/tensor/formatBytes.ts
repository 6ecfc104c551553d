/** A byte count for messages: `812 bytes`, `1.2 MB`, `3.4 GB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) < 1024) return `${n} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = n / 1024;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** A large count for messages, as a power of two when it is one (`2^40`), else as digits. */
export function formatCount(n: number | bigint): string {
  if (typeof n === 'number' && !Number.isInteger(n)) return String(n);
  const b = BigInt(n);
  if (b > 1n << 20n && (b & (b - 1n)) === 0n) return `2^${b.toString(2).length - 1}`;
  return b.toString();
}
