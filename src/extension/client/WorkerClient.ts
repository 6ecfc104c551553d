import { fork, type ChildProcess } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, ResponseError, CancellationTokenSource, type MessageConnection } from 'vscode-jsonrpc/node';
import type { WorkerErrorData, WorkerMethod, WorkerNotifications, WorkerRequests } from '../../protocol/workerProtocol';

/**
 * A cancellation signal: VS Code's `CancellationToken` is one. Declared here so that this module
 * loads without the `vscode` module (plain Node tests drive it against the real worker).
 */
export interface CancelSignal {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** Where the client writes its log: VS Code's `LogOutputChannel` is one. */
export interface WorkerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Options of one request. */
export interface RequestOptions {
  readonly token?: CancelSignal;
  readonly onProgress?: (message: string, fraction?: number) => void;
}

/** How a worker process is started; read at each start, so a changed setting applies to the next worker. */
export interface WorkerLaunch {
  /** The worker's memory cap in MiB (`quantscope.worker.maxMemoryMB`); 0 or absent: none. */
  readonly maxMemoryMB?: number;
  /** More Node flags (a bench's `--expose-gc`). */
  readonly nodeFlags?: readonly string[];
}

/** The worker's marker of its memory cap; the worker parses it (see `memoryLimit.ts`). */
const MAX_MEMORY_ARG = '--max-memory-mb=';

/**
 * The arguments and Node flags of a worker started with `launch`. The cap goes to V8 as
 * `--max-old-space-size`, which bounds the JavaScript heap only; tensor data lives in array
 * buffers outside it, so the worker is also told the cap and its jobs account their big buffers
 * against it before they start.
 */
export function workerLaunchArgs(launch: WorkerLaunch): { args: string[]; execArgv: string[] } {
  const mb = launch.maxMemoryMB;
  const capped = mb !== undefined && Number.isInteger(mb) && mb > 0;
  return {
    args: capped ? [`${MAX_MEMORY_ARG}${mb}`] : [],
    execArgv: [...(capped ? [`--max-old-space-size=${mb}`] : []), ...(launch.nodeFlags ?? [])],
  };
}

/** An error answered by the worker, with whose fault it was. */
export class WorkerRequestError extends Error {
  constructor(message: string, readonly kind: WorkerErrorData['kind'] | 'crashed') {
    super(message);
    this.name = 'WorkerRequestError';
  }
}

/** What the user is told when the worker dies without being asked to. */
export interface WorkerCrash {
  /** How it ended, e.g. `it was killed by SIGKILL`. */
  readonly reason: string;
  /** The jobs that were running, e.g. `quantize job on model.onnx`. */
  readonly lostJobs: readonly string[];
  /** Files the lost jobs had started (temporary files, unvalidated outputs) that were removed. */
  readonly removedFiles: readonly string[];
}

/** The warning the user sees when the worker dies: why, which jobs were lost, what was cleaned up. */
export function crashMessage(crash: WorkerCrash): string {
  const jobs = crash.lostJobs.length === 0 ? '' : crash.lostJobs.length === 1 ? ` while running the ${crash.lostJobs[0]}, which was lost` : ` while running ${crash.lostJobs.length} jobs, which were lost (${crash.lostJobs.join(', ')})`;
  const files = crash.removedFiles.length ? `; the partial output it had started (${crash.removedFiles.map((f) => basename(f)).join(', ')}) was removed` : '';
  return `The Quantscope worker stopped unexpectedly (${crash.reason})${jobs}${files}. It restarts with the next request.`;
}

/** What a request's method is called in messages. */
const JOB_KINDS: Readonly<Record<WorkerMethod, string>> = {
  ping: 'ping',
  memoryUsage: 'memory report',
  inspect: 'listing',
  modelText: 'text view',
  profileWeights: 'profile',
  calibrate: 'calibration',
  quantizableLayers: 'layer list',
  quantize: 'quantize',
  planQuantization: 'mixed-precision plan',
  prune: 'prune',
  benchmark: 'benchmark',
  exportDecoder: 'export',
  exportGguf: 'GGUF export',
  planMemory: 'serving memory plan',
  findings: 'findings',
};

/** `quantize job on model.onnx`: the job kind and, where the parameters name one, the model. */
export function describeJob(method: WorkerMethod, params: unknown): string {
  const p = params as { readonly path?: unknown; readonly models?: unknown } | undefined;
  const model = typeof p?.path === 'string' ? p.path : Array.isArray(p?.models) && typeof p.models[0] === 'string' ? p.models[0] : undefined;
  return `${JOB_KINDS[method]} job${model === undefined ? '' : ` on ${basename(model)}`}`;
}

interface RunningWorker {
  readonly child: ChildProcess;
  readonly connection: MessageConnection;
  /** Files the worker said it is creating and has not released yet. */
  readonly owned: Set<string>;
  /** The jobs in flight, for the crash message. */
  readonly jobs: Map<number, string>;
  /** Resolves once the process is gone and the files it owned are removed. */
  readonly ended: Promise<WorkerCrash>;
  /** Requests waiting on this worker, woken when it ends (one entry per request, not a chain per request). */
  readonly waiting: Set<() => void>;
  /** Set when the process exited or was stopped; requests still waiting are then lost. */
  gone: boolean;
  /** Set by {@link WorkerClient.restart} and `dispose`: then the end is not a crash to report. */
  onPurpose: boolean;
}

/** The marker a request's race resolves with when its worker ended first. */
const LOST = Symbol('lost');

/**
 * The extension's side of the worker process: forks it on first use, speaks JSON-RPC over IPC,
 * forwards progress and cancellation, and restarts it after a crash. A native crash in ONNX
 * Runtime (or a SIGKILL) kills only the worker: the jobs it was running fail with a message that
 * names them, the files they had started are removed, the crash is reported once through
 * `onCrash`, and the next request starts a fresh worker.
 */
export class WorkerClient {
  private worker: RunningWorker | undefined;
  private nextProgressToken = 1;
  private nextJob = 1;
  private disposed = false;
  private readonly progressHandlers = new Map<string, (message: string, fraction?: number) => void>();

  /**
   * @param workerPath the worker bundle (`dist/worker.js`)
   * @param log where worker output and lifecycle events go
   * @param onCrash told, after cleanup, when the worker dies without being asked to
   * @param launch how to start each worker process (read at every start)
   */
  constructor(
    private readonly workerPath: string,
    private readonly log: WorkerLog,
    private readonly onCrash: (crash: WorkerCrash) => void = () => undefined,
    private readonly launch: () => WorkerLaunch = () => ({}),
  ) {}

  /** The running worker's process id, or undefined when none is running. */
  get pid(): number | undefined {
    return this.worker?.child.pid;
  }

  /** Sends a typed request, starting the worker when needed. */
  async request<M extends WorkerMethod>(method: M, params: WorkerRequests[M]['params'], options: RequestOptions = {}): Promise<WorkerRequests[M]['result']> {
    const worker = this.ensureStarted();
    let progressToken: string | undefined;
    if (options.onProgress) {
      progressToken = String(this.nextProgressToken++);
      this.progressHandlers.set(progressToken, options.onProgress);
    }
    const job = this.nextJob++;
    worker.jobs.set(job, describeJob(method, params));
    let wake: (() => void) | undefined;
    const cts = new CancellationTokenSource();
    const sub = options.token?.onCancellationRequested(() => cts.cancel());
    if (options.token?.isCancellationRequested) cts.cancel();
    try {
      const sent = worker.connection.sendRequest<WorkerRequests[M]['result']>(method, { ...params, ...(progressToken ? { progressToken } : {}) }, cts.token);
      // The connection may never answer a request whose process died: the end decides then.
      const result = await Promise.race([sent, new Promise<typeof LOST>((resolve) => worker.waiting.add(wake = () => resolve(LOST)))]);
      if (result === LOST) throw await this.lostError(worker, method, params);
      return result;
    } catch (e) {
      if (e instanceof WorkerRequestError) throw e;
      if (worker.gone) throw await this.lostError(worker, method, params);
      if (e instanceof ResponseError) {
        const data = e.data as WorkerErrorData | undefined;
        throw new WorkerRequestError(e.message, data?.kind ?? 'internal');
      }
      // A channel that failed is usually a process on its way out, whose exit has not arrived yet.
      if (await this.endsSoon(worker)) throw await this.lostError(worker, method, params);
      throw new WorkerRequestError(`the worker failed while handling the ${describeJob(method, params)}: ${e instanceof Error ? e.message : String(e)}`, 'crashed');
    } finally {
      worker.jobs.delete(job);
      if (wake) worker.waiting.delete(wake);
      sub?.dispose();
      cts.dispose();
      if (progressToken) this.progressHandlers.delete(progressToken);
    }
  }

  /** Stops the worker; the next request starts a new one. */
  restart(): void {
    this.stop();
  }

  /** Stops the worker for good; files its jobs had started are still removed. */
  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  /** Resolves once the current worker (if any) is gone and its files are removed; for orderly shutdowns and tests. */
  async stopped(): Promise<void> {
    const w = this.worker;
    this.stop();
    if (w) await w.ended;
  }

  /** True when `worker` ends within two seconds. */
  private async endsSoon(worker: RunningWorker): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), 2000);
      timer.unref();
    });
    try {
      return await Promise.race([worker.ended.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async lostError(worker: RunningWorker, method: WorkerMethod, params: unknown): Promise<WorkerRequestError> {
    const end = await worker.ended;
    const removed = end.removedFiles.length ? `; the ${end.removedFiles.length === 1 ? 'file it had started was' : `${end.removedFiles.length} files it had started were`} removed` : '';
    return new WorkerRequestError(`the ${describeJob(method, params)} was lost: the Quantscope worker stopped (${end.reason})${removed}. Run it again to start a new worker.`, 'crashed');
  }

  private ensureStarted(): RunningWorker {
    if (this.disposed) throw new WorkerRequestError('the Quantscope worker client was shut down', 'crashed');
    if (this.worker && !this.worker.gone) return this.worker;
    const { args, execArgv } = workerLaunchArgs(this.launch());
    const child = fork(this.workerPath, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Inside desktop VS Code process.execPath is Electron; this makes it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      execArgv,
    });
    child.stdout?.on('data', (d: Buffer) => this.log.info(`[worker] ${d.toString().trimEnd()}`));
    child.stderr?.on('data', (d: Buffer) => this.log.warn(`[worker] ${d.toString().trimEnd()}`));
    const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    const owned = new Set<string>();
    connection.onNotification('progress', (p: WorkerNotifications['progress']) => this.progressHandlers.get(p.token)?.(p.message, p.fraction));
    connection.onNotification('log', (p: WorkerNotifications['log']) => this.log[p.level](`[worker] ${p.message}`));
    connection.onNotification('ownedFile', (p: WorkerNotifications['ownedFile']) => {
      if (p.owned) owned.add(p.path);
      else owned.delete(p.path);
    });
    connection.listen();
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const jobs = new Map<number, string>();
    const ended = new Promise<WorkerCrash>((resolve) => {
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        worker.gone = true;
        if (this.worker === worker) this.worker = undefined;
      });
      // 'close' comes after the IPC channel is drained, so every ownership notice has arrived.
      child.on('close', (code, signal) => {
        void (async () => {
          worker.gone = true;
          if (this.worker === worker) this.worker = undefined;
          const how = exit ?? { code, signal };
          const reason = how.signal ? `it was killed by ${how.signal}` : `it exited with code ${how.code ?? 'unknown'}`;
          const lostJobs = [...jobs.values()];
          const removedFiles = await this.removeOwned(owned);
          connection.dispose();
          const crash: WorkerCrash = { reason, lostJobs, removedFiles };
          resolve(crash);
          for (const w of worker.waiting) w();
          if (!worker.onPurpose) {
            this.log.error(`worker ${child.pid} stopped: ${reason}${lostJobs.length ? `; lost: ${lostJobs.join(', ')}` : ''}`);
            this.onCrash(crash);
          }
        })();
      });
    });
    child.on('error', (e) => this.log.error(`worker error: ${e.message}`));
    const worker: RunningWorker = { child, connection, owned, jobs, ended, waiting: new Set(), gone: false, onPurpose: false };
    this.log.info(`worker ${child.pid} started`);
    this.worker = worker;
    return worker;
  }

  /** Removes the files a dead worker still owned; returns those that existed. */
  private async removeOwned(owned: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const path of owned) {
      const existed = await stat(path).then(() => true, () => false);
      try {
        await rm(path, { force: true });
        if (existed) removed.push(path);
      } catch (e) {
        this.log.warn(`could not remove ${path}, which a stopped job left: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (removed.length) this.log.info(`removed what the stopped worker's jobs had started: ${removed.join(', ')}`);
    return removed;
  }

  private stop(): void {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    w.onPurpose = true;
    w.gone = true;
    w.child.kill();
  }
}
