import { fork, type ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, ResponseError, CancellationTokenSource, type MessageConnection } from 'vscode-jsonrpc/node';
import type { WorkerErrorData, WorkerMethod, WorkerNotifications, WorkerRequests } from '../../protocol/workerProtocol';
import { Disposable } from '../Disposable';

/** Options of one request. */
export interface RequestOptions {
  readonly token?: vscode.CancellationToken;
  readonly onProgress?: (message: string, fraction?: number) => void;
}

/** An error answered by the worker, with whose fault it was. */
export class WorkerRequestError extends Error {
  constructor(message: string, readonly kind: WorkerErrorData['kind'] | 'crashed') {
    super(message);
    this.name = 'WorkerRequestError';
  }
}

interface RunningWorker {
  readonly child: ChildProcess;
  readonly connection: MessageConnection;
}

/**
 * The extension's side of the worker process: forks it on first use, speaks JSON-RPC over IPC,
 * forwards progress and cancellation, and restarts it after a crash. A native crash in ONNX
 * Runtime kills only the worker; the next request starts a fresh one.
 */
export class WorkerClient extends Disposable {
  private worker: RunningWorker | undefined;
  private nextProgressToken = 1;
  private readonly progressHandlers = new Map<string, (message: string, fraction?: number) => void>();
  private readonly onDidCrashEmitter = this._register(new vscode.EventEmitter<string>());
  /** Fires with a user-readable reason when the worker dies without being asked to. */
  readonly onDidCrash = this.onDidCrashEmitter.event;

  constructor(private readonly workerPath: string, private readonly log: vscode.LogOutputChannel) {
    super();
  }

  /** The running worker's process id, or undefined when none is running. */
  get pid(): number | undefined {
    return this.worker?.child.pid;
  }

  /** Sends a typed request, starting the worker when needed. */
  async request<M extends WorkerMethod>(method: M, params: WorkerRequests[M]['params'], options: RequestOptions = {}): Promise<WorkerRequests[M]['result']> {
    const { connection } = this.ensureStarted();
    let progressToken: string | undefined;
    if (options.onProgress) {
      progressToken = String(this.nextProgressToken++);
      this.progressHandlers.set(progressToken, options.onProgress);
    }
    const cts = new CancellationTokenSource();
    const sub = options.token?.onCancellationRequested(() => cts.cancel());
    try {
      return await connection.sendRequest<WorkerRequests[M]['result']>(method, { ...params, ...(progressToken ? { progressToken } : {}) }, cts.token);
    } catch (e) {
      if (e instanceof ResponseError) {
        const data = e.data as WorkerErrorData | undefined;
        throw new WorkerRequestError(e.message, data?.kind ?? 'internal');
      }
      throw new WorkerRequestError(`the worker stopped while handling ${method}: ${e instanceof Error ? e.message : String(e)}`, 'crashed');
    } finally {
      sub?.dispose();
      cts.dispose();
      if (progressToken) this.progressHandlers.delete(progressToken);
    }
  }

  /** Stops the worker; the next request starts a new one. */
  restart(): void {
    this.stop();
  }

  override dispose(): void {
    this.stop();
    super.dispose();
  }

  private ensureStarted(): RunningWorker {
    if (this.worker && this.worker.child.exitCode === null && this.worker.child.signalCode === null) return this.worker;
    const child = fork(this.workerPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Inside desktop VS Code process.execPath is Electron; this makes it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      execArgv: [],
    });
    child.stdout?.on('data', (d: Buffer) => this.log.info(`[worker] ${d.toString().trimEnd()}`));
    child.stderr?.on('data', (d: Buffer) => this.log.warn(`[worker] ${d.toString().trimEnd()}`));
    const connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    connection.onNotification('progress', (p: WorkerNotifications['progress']) => this.progressHandlers.get(p.token)?.(p.message, p.fraction));
    connection.onNotification('log', (p: WorkerNotifications['log']) => this.log[p.level](`[worker] ${p.message}`));
    connection.listen();
    const worker: RunningWorker = { child, connection };
    child.on('exit', (code, signal) => {
      connection.dispose();
      if (this.worker !== worker) return; // stopped on purpose
      this.worker = undefined;
      const reason = signal ? `it was killed by ${signal}` : `it exited with code ${code ?? 'unknown'}`;
      this.log.error(`worker ${child.pid} stopped: ${reason}`);
      this.onDidCrashEmitter.fire(reason);
    });
    child.on('error', (e) => this.log.error(`worker error: ${e.message}`));
    this.log.info(`worker ${child.pid} started`);
    this.worker = worker;
    return worker;
  }

  private stop(): void {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    w.connection.dispose();
    w.child.kill();
  }
}
