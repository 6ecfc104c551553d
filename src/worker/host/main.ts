/**
 * The worker process: a JSON-RPC server over Node IPC. It owns every heavy computation so that
 * the extension host never stalls, and a native crash here cannot take the editor down.
 */
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, ResponseError, type CancellationToken } from 'vscode-jsonrpc/node';
import { isFormatError } from '../../core/FormatError';
import { closeIdleFiles } from '../../core/io/FileAccessor';
import { observeOwnedFiles } from '../../core/io/ownedFiles';
import { WorkerErrorCode, type WorkerErrorData, type WorkerMethod, type WorkerNotifications, type WorkerRequests } from '../../protocol/workerProtocol';
import { CancelledError, type JobContext } from '../jobs/JobContext';
import { profileModel } from '../jobs/profileModel';
import { quantizableLayers } from '../jobs/quantizableLayers';
import { planServingMemory } from '../jobs/planServingMemory';
import { benchmarkModels } from '../jobs/benchmark';
import { exportDecoder } from '../jobs/exportDecoder';
import { exportGguf } from '../jobs/exportGguf';
import { pruneModel } from '../jobs/prune';
import { planQuantization } from '../jobs/planQuantization';
import { quantizeModel } from '../jobs/quantize';
import { profileWeights } from '../jobs/profileWeights';
import { modelFindings } from '../jobs/modelFindings';
import { ProfileStore } from '../jobs/ProfileStore';
import { memoryCapFromArgv } from '../jobs/memoryLimit';
import { WorkerService } from './WorkerService';

if (!process.send) {
  console.error('The Quantscope worker must be started by the extension or the CLI with an IPC channel.');
  process.exit(2);
}

const connection = createMessageConnection(new IPCMessageReader(process), new IPCMessageWriter(process));
const memoryCapBytes = memoryCapFromArgv(process.argv.slice(2));
const service = new WorkerService(memoryCapBytes);
// Profiles stay here after they are computed, so findings are derived next to them.
const profiles = new ProfileStore();

function notify<N extends keyof WorkerNotifications>(method: N, params: WorkerNotifications[N]): void {
  void connection.sendNotification(method, params);
}

/**
 * Sends a notification and resolves once it has left this process. vscode-jsonrpc's IPC writer
 * resolves before that; a file must not be created until the parent is sure to hear of it, since
 * a SIGKILL drops whatever is still queued here.
 */
function notifyDelivered<N extends keyof WorkerNotifications>(method: N, params: WorkerNotifications[N]): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) return Promise.resolve();
  return new Promise((resolve) => {
    send({ jsonrpc: '2.0', method, params }, undefined, undefined, () => resolve());
  });
}

observeOwnedFiles({
  own: (path) => notifyDelivered('ownedFile', { path, owned: true }),
  release: (path) => notify('ownedFile', { path, owned: false }),
});

/** Jobs running now: the shared file handles are closed when the last one ends. */
let running = 0;

/** Registers a typed handler; errors become JSON-RPC errors whose `data.kind` says whose fault it was. */
function handle<M extends WorkerMethod>(
  method: M,
  run: (params: WorkerRequests[M]['params'], ctx: JobContext) => Promise<WorkerRequests[M]['result']> | WorkerRequests[M]['result'],
): void {
  connection.onRequest(method, async (params: WorkerRequests[M]['params'] & { progressToken?: string }, token: CancellationToken) => {
    const progressToken = params?.progressToken;
    const ctx: JobContext = {
      isCancelled: () => token.isCancellationRequested,
      progress: (message, fraction) => {
        if (progressToken) notify('progress', { token: progressToken, message, ...(fraction === undefined ? {} : { fraction }) });
      },
      log: (level, message) => notify('log', { level, message }),
      ...(memoryCapBytes === undefined ? {} : { memoryCapBytes }),
    };
    running++;
    try {
      return await run(params, ctx);
    } catch (e) {
      if (e instanceof CancelledError || token.isCancellationRequested) {
        return new ResponseError<WorkerErrorData>(WorkerErrorCode.cancelled, 'cancelled', { kind: 'cancelled' });
      }
      if (isFormatError(e)) return new ResponseError<WorkerErrorData>(WorkerErrorCode.format, e.message, { kind: 'format' });
      const message = e instanceof Error ? e.message : String(e);
      notify('log', { level: 'error', message: e instanceof Error && e.stack ? e.stack : message });
      return new ResponseError<WorkerErrorData>(WorkerErrorCode.internal, message, { kind: 'internal' });
    } finally {
      // Between jobs no file needs to stay open: a model the user closed or deleted is let go.
      if (--running === 0) await closeIdleFiles();
    }
  });
}

handle('ping', () => service.ping());
handle('memoryUsage', (params) => service.memoryUsage(params));
handle('inspect', (params, ctx) => service.inspect(params, ctx));
handle('modelText', (params) => service.modelText(params));
handle('profileWeights', async ({ keepAs, ...params }, ctx) => {
  const weights = await profileWeights(params, ctx);
  if (keepAs) profiles.keep(keepAs, { kind: 'weights', weights });
  return weights;
});
handle('calibrate', async ({ keepAs, ...params }, ctx) => {
  const model = await profileModel(params, ctx);
  if (keepAs) profiles.keep(keepAs, { kind: 'model', model });
  return model;
});
handle('findings', (params, ctx) => modelFindings(params, profiles, ctx));
handle('quantizableLayers', (params, ctx) => quantizableLayers(params.path, ctx));
handle('quantize', (params, ctx) => quantizeModel(params, ctx));
handle('planQuantization', (params, ctx) => planQuantization(params, ctx));
handle('prune', (params, ctx) => pruneModel(params, ctx));
handle('benchmark', (params, ctx) => benchmarkModels(params, ctx));
handle('exportDecoder', (params, ctx) => exportDecoder(params, ctx));
handle('exportGguf', (params, ctx) => exportGguf(params, ctx));
handle('planMemory', (params, ctx) => planServingMemory(params, ctx));

// The worker lives only as long as its parent: without the IPC channel nobody can use it.
process.on('disconnect', () => process.exit(0));
connection.onClose(() => process.exit(0));
connection.listen();
