import type { InspectParams, ModelSummary, PingResult } from '../../protocol/workerProtocol';
import { inspectModel, modelText } from '../jobs/inspectModel';
import type { JobContext } from '../jobs/JobContext';

const started = Date.now();

/**
 * The host's own requests (`ping`) and the listing jobs under the names the JSON-RPC server in
 * `main.ts` registers; the CLI calls the jobs directly.
 */
export class WorkerService {
  /** Answers with this process's identity; used to check that the worker is alive. */
  ping(): PingResult {
    return { pid: process.pid, node: process.version, uptimeMs: Date.now() - started };
  }

  /** See {@link inspectModel}. */
  inspect(params: InspectParams, ctx: JobContext): Promise<ModelSummary> {
    return inspectModel(params, ctx);
  }

  /** See {@link modelText}. */
  modelText(params: InspectParams): Promise<{ text: string }> {
    return modelText(params);
  }
}
