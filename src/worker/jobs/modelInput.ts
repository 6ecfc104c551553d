/**
 * The one place a job turns the model the user named into the ONNX file it runs: an ONNX model
 * is itself, and a language-model checkpoint (a Hugging Face folder, its `model.safetensors` or
 * index, Meta-named weights, a `.gguf`) is built into a decoder graph once and cached next to
 * the model, under `.quantscope/decoder/`, with a fingerprint of every source file beside it.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import { buildDecoder, DECODER_OPSET, openDecoderSource, type DecoderSource } from '../../core/decoder';
import { isCancelledError } from '../../core/linalg/CancelledError';
import { atomicWrite, WriteCancelledError } from '../../core/io/atomicWrite';
import { FileAccessor } from '../../core/io/FileAccessor';
import { sniffFormat } from '../../core/formats/registry';
import type { DecoderGraphInfo } from '../../protocol/exportTypes';
import { CancelledError, throwIfCancelled, type JobContext } from './JobContext';
import { decoderMemoryLimit } from './memoryLimit';

/** Bumped when the builder's output changes, so older cached graphs are rebuilt. */
const CACHE_VERSION = 1;

/** The ONNX model a job runs, and where its outputs go. */
export interface ModelInput {
  /** The ONNX model to load: the user's file, or the graph built from their checkpoint. */
  readonly onnx: string;
  /**
   * The path outputs are named after: the model itself, or for a checkpoint `model.onnx` in its
   * folder (`NAME.onnx` beside a `.gguf`), so `model.q4.onnx` lands beside the weights.
   */
  readonly outputBase: string;
  /** Set when the model was a checkpoint: the cached graph and whether it was reused. */
  readonly decoder?: DecoderGraphInfo;
}

/** Formats whose files may hold a decoder's weights. */
const WEIGHT_FORMATS = new Set(['safetensors', 'gguf', 'pytorch']);

/**
 * True when `path` names a language-model checkpoint rather than an ONNX model: a folder, a
 * `.json` (config or safetensors index) or a safetensors, GGUF or PyTorch file. Whether it holds
 * a decoder the engine can build is for {@link openDecoderSource} to say.
 */
export async function isCheckpointInput(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => undefined);
  // A missing file is for the loader to name.
  if (!s) return false;
  if (s.isDirectory()) return true;
  if (/\.onnx$/i.test(path)) return false;
  if (/\.json$/i.test(path)) return true;
  if (s.size === 0) return false;
  const file = await FileAccessor.open(path);
  try {
    const reader = await sniffFormat(file);
    return reader !== undefined && WEIGHT_FORMATS.has(reader.name);
  } finally {
    await file.close();
  }
}

/** The folder a decoder source lives in: its config's (or the `.gguf`'s) folder. */
function sourceFolder(source: DecoderSource): string {
  return dirname(source.files[0]);
}

/** `model` for a folder's weights, `NAME` for `NAME.gguf`. */
function sourceStem(source: DecoderSource): string {
  const first = source.files[0];
  return source.format === 'gguf' ? basename(first, extname(first)) : 'model';
}

/** `model.onnx` in the checkpoint's folder, or `NAME.onnx` beside `NAME.gguf`: what exports and transforms are named after. */
export function decoderOutputBase(source: DecoderSource): string {
  return join(sourceFolder(source), `${sourceStem(source)}.onnx`);
}

/** Where the graph built from `source` is cached. */
export function decoderCachePath(source: DecoderSource): string {
  return join(sourceFolder(source), '.quantscope', 'decoder', `${sourceStem(source)}.onnx`);
}

/** Size and modification time of one file, as the fingerprint records them. */
interface FileStamp {
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** What is stored beside a cached graph: the builder's version, the source files and the graph's own files. */
interface Fingerprint {
  readonly version: number;
  readonly opset: number;
  readonly sources: readonly FileStamp[];
  /** The cached model and its data file: a truncated or replaced entry no longer matches. */
  readonly graph: readonly FileStamp[];
  readonly buildSeconds: number;
}

async function stampOf(path: string, base: string): Promise<FileStamp> {
  const s = await stat(path);
  return { name: relative(base, path), size: s.size, mtimeMs: s.mtimeMs };
}

async function stamps(paths: readonly string[], base: string): Promise<FileStamp[] | undefined> {
  try {
    return await Promise.all(paths.map((p) => stampOf(p, base)));
  } catch {
    return undefined;
  }
}

function sameStamps(a: readonly FileStamp[] | undefined, b: readonly FileStamp[] | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return a.every((s, i) => s.name === b[i].name && s.size === b[i].size && s.mtimeMs === b[i].mtimeMs);
}

/** The stored fingerprint, or why there is none usable (then the graph is rebuilt). */
type FingerprintRead = { readonly fp: Fingerprint } | { readonly missing: true } | { readonly problem: string; readonly damaged: boolean };

async function readFingerprint(path: string): Promise<FingerprintRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { missing: true };
  }
  let json: Partial<Fingerprint>;
  try {
    json = JSON.parse(text) as Partial<Fingerprint>;
  } catch (e) {
    return { problem: `its fingerprint ${basename(path)} is not valid JSON (${e instanceof Error ? e.message : String(e)})`, damaged: true };
  }
  if (typeof json !== 'object' || json === null || !Array.isArray(json.sources) || !Array.isArray(json.graph)) {
    return { problem: `its fingerprint ${basename(path)} does not hold the fields a fingerprint has`, damaged: true };
  }
  if (json.version !== CACHE_VERSION || json.opset !== DECODER_OPSET) return { problem: 'it was built by another version of the builder', damaged: false };
  return { fp: json as Fingerprint };
}

/** The graph files a fingerprint names, as paths. */
function graphFiles(cache: string, fp: Fingerprint): string[] {
  return fp.graph.map((g) => join(dirname(cache), g.name));
}

/**
 * Why the cached graph cannot be used, or undefined when it was built from the source as it is
 * now and is intact. `damaged` marks a cache entry that was cut short or altered (worth a
 * warning), as opposed to one that is merely out of date.
 */
async function staleness(source: DecoderSource, cache: string): Promise<{ readonly problem: string; readonly damaged: boolean } | undefined> {
  const read = await readFingerprint(`${cache}.json`);
  if ('missing' in read) {
    const orphan = await stat(cache).then(() => true, () => false);
    return { problem: orphan ? 'it has no fingerprint beside it (its build was interrupted, or the fingerprint was deleted)' : 'there is none yet', damaged: orphan };
  }
  if ('problem' in read) return read;
  const fp = read.fp;
  if (!fp.graph.length || join(dirname(cache), fp.graph[0].name) !== cache) return { problem: 'its fingerprint names other files', damaged: true };
  const folder = sourceFolder(source);
  if (!sameStamps(fp.sources, await stamps(source.files, folder))) return { problem: 'the checkpoint changed since it was built', damaged: false };
  const now = await stamps(graphFiles(cache, fp), dirname(cache));
  if (!sameStamps(fp.graph, now)) {
    const differs = fp.graph.map((g, i) => ({ g, n: now?.[i] })).find(({ g, n }) => !n || n.size !== g.size || n.mtimeMs !== g.mtimeMs);
    const what = differs === undefined ? 'its files' : differs.n === undefined ? `${differs.g.name} is missing` : `${differs.g.name} has ${differs.n.size} bytes where its fingerprint records ${differs.g.size}${differs.n.size === differs.g.size ? ' and another modification time' : ''}`;
    return { problem: `${what} (cut short or changed after it was built)`, damaged: true };
  }
  return undefined;
}

/** Builds `source` and saves it as the cache entry `cache`, its fingerprint last. */
async function buildCache(source: DecoderSource, cache: string, ctx: JobContext): Promise<number> {
  const t0 = performance.now();
  const sources = await stamps(source.files, sourceFolder(source));
  const model = await buildDecoder(source, {
    ...decoderMemoryLimit(ctx),
    onProgress: (done, total, tensor) => {
      throwIfCancelled(ctx);
      ctx.progress(`building the decoder graph: ${tensor}`, (0.9 * done) / total);
    },
  });
  throwIfCancelled(ctx);
  await mkdir(dirname(cache), { recursive: true });
  const fingerprint = `${cache}.json`;
  // The old fingerprint goes first: a crash mid-write must leave no entry that looks current.
  await rm(fingerprint, { force: true });
  ctx.progress('saving the decoder graph', 0.9);
  const saved = await model.save(cache, { overwrite: true, isCancelled: ctx.isCancelled });
  if (saved.dataPath === undefined) await rm(`${cache}.data`, { force: true });
  const files = saved.dataPath === undefined ? [cache] : [cache, saved.dataPath];
  const graph = await stamps(files, dirname(cache));
  if (!sources || !graph) throw new Error(`a source file of ${basename(source.path)} vanished while the graph was built`);
  const buildSeconds = (performance.now() - t0) / 1000;
  const fp: Fingerprint = { version: CACHE_VERSION, opset: DECODER_OPSET, sources, graph, buildSeconds };
  await atomicWrite(fingerprint, [new TextEncoder().encode(JSON.stringify(fp, null, 1))], { overwrite: true });
  return buildSeconds;
}

/**
 * The ONNX model behind `path` for every job that runs a graph (quantize, prune, plan,
 * calibrate, profile, benchmark, the layer list). An ONNX model is returned as it is. A
 * language-model checkpoint is opened (its config and every tensor's shape checked, so a broken
 * source fails here with the engine's message), and its built graph comes from the cache when
 * the fingerprint still matches the source files' sizes and times and the cached files
 * themselves; otherwise it is built and saved there. Progress and cancellation go through `ctx`.
 */
export async function resolveModelInput(path: string, ctx: JobContext): Promise<ModelInput> {
  if (!(await isCheckpointInput(path))) return { onnx: path, outputBase: path };
  const source = await openDecoderSource(path);
  const cache = decoderCachePath(source);
  const outputBase = decoderOutputBase(source);
  const stale = await staleness(source, cache);
  if (!stale) return { onnx: cache, outputBase, decoder: { graph: cache, cacheHit: true, buildSeconds: 0 } };
  // Reported when found; the rebuild below replaces the entry, so the same damage is reported once.
  if (stale.damaged) ctx.log?.('warn', `ignored the cached decoder graph ${cache}: ${stale.problem}; it is built again`);
  else if (stale.problem !== 'there is none yet') ctx.log?.('info', `rebuilding the cached decoder graph ${cache}: ${stale.problem}`);
  try {
    const buildSeconds = await buildCache(source, cache, ctx);
    return { onnx: cache, outputBase, decoder: { graph: cache, cacheHit: false, buildSeconds } };
  } catch (e) {
    if (isCancelledError(e) || e instanceof WriteCancelledError) throw new CancelledError();
    throw e;
  }
}
