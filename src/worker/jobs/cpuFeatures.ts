/**
 * The CPU features that decide which integer and half-precision kernels ONNX Runtime can pick.
 * On Linux they come from /proc/cpuinfo; elsewhere only the model name is known.
 */
import { open } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { CpuFeatures } from '../../protocol/benchTypes';

/** /proc/cpuinfo repeats the same block per core; the first block or two are all we need. */
const MAX_CPUINFO_BYTES = 64 * 1024;

/** Parses the text of /proc/cpuinfo (x86 `flags` or Arm `Features` lines). */
export function parseCpuInfo(text: string, cores?: number): CpuFeatures {
  let model = '';
  let flagLine: string | undefined;
  let processors = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'processor') processors++;
    else if (!model && (key === 'model name' || key === 'hardware' || key === 'cpu model')) model = value;
    else if (flagLine === undefined && (key === 'flags' || key === 'features')) flagLine = value;
  }
  const flags = new Set((flagLine ?? '').split(/\s+/).filter(Boolean));
  const has = (...names: string[]): boolean => names.some((n) => flags.has(n));
  return {
    model: model || 'unknown',
    cores: cores ?? processors,
    known: flagLine !== undefined,
    avx2: has('avx2'),
    avx512f: has('avx512f'),
    avx512vnni: has('avx512_vnni', 'avx512vnni'),
    avxVnni: has('avx_vnni', 'avxvnni'),
    amxInt8: has('amx_int8') && has('amx_tile'),
    f16c: has('f16c'),
    fma: has('fma'),
  };
}

/** Features without flags: on systems other than Linux, or when /proc/cpuinfo cannot be read. */
function unknownFeatures(): CpuFeatures {
  const list = cpus();
  return {
    model: list[0]?.model.trim() || 'unknown', cores: list.length, known: false,
    avx2: false, avx512f: false, avx512vnni: false, avxVnni: false, amxInt8: false, f16c: false, fma: false,
  };
}

/** Reads this machine's CPU features. Never throws. */
export async function readCpuFeatures(): Promise<CpuFeatures> {
  if (process.platform !== 'linux') return unknownFeatures();
  try {
    const file = await open('/proc/cpuinfo', 'r');
    try {
      const buffer = Buffer.alloc(MAX_CPUINFO_BYTES);
      // /proc files report size 0, so read until the buffer is full or the file ends.
      let length = 0;
      for (;;) {
        const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length >= buffer.length) break;
      }
      const parsed = parseCpuInfo(buffer.subarray(0, length).toString('utf8'), cpus().length);
      return parsed.model === 'unknown' ? { ...parsed, model: unknownFeatures().model } : parsed;
    } finally {
      await file.close();
    }
  } catch {
    return unknownFeatures();
  }
}

/** The features as a short list for messages, e.g. `AVX2, FMA, no AVX-512, no VNNI`. */
export function describeCpu(cpu: CpuFeatures): string {
  if (!cpu.known) return 'CPU features unknown on this OS';
  const parts = [cpu.avx2 ? 'AVX2' : 'no AVX2', cpu.avx512f ? 'AVX-512F' : 'no AVX-512'];
  if (cpu.avx512vnni) parts.push('AVX512-VNNI');
  if (cpu.avxVnni) parts.push('AVX-VNNI');
  if (!cpu.avx512vnni && !cpu.avxVnni) parts.push('no VNNI');
  if (cpu.amxInt8) parts.push('AMX-INT8');
  return parts.join(', ');
}
