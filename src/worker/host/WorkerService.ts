import { getHeapStatistics } from 'node:v8';
import type { InspectParams, MemoryUsageParams, ModelSummary, PingResult, WorkerMemory } from '../../protocol/workerProtocol';
import { inspectModel, modelText } from '../jobs/inspectModel';
import type { JobContext } from '../jobs/JobContext';

const started = Date.now();

/**
 * The host's own requests (`ping`) and the listing jobs under the names the JSON-RPC server in
 * `main.ts` registers; the CLI calls the jobs directly.
 */
export class WorkerService {
  /** @param memoryCapBytes the cap jobs account against (`--max-memory-mb`), reported by {@link memoryUsage} */
  constructor(private readonly memoryCapBytes?: number) {}

  /** Answers with this process's identity; used to check that the worker is alive. */
  ping(): PingResult {
    return { pid: process.pid, node: process.version, uptimeMs: Date.now() - started };
  }

  /**
   * This process's memory, after a full collection when asked and `--expose-gc` made one
   * possible: without it the figures include garbage not yet collected.
   */
  memoryUsage(params: MemoryUsageParams): WorkerMemory {
    const gc = (globalThis as { gc?: () => void }).gc;
    const collected = Boolean(params.collect && gc);
    if (collected && gc) gc();
    const m = process.memoryUsage();
    return {
      rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, heapLimit: getHeapStatistics().heap_size_limit,
      external: m.external, arrayBuffers: m.arrayBuffers, collected,
      ...(this.memoryCapBytes === undefined ? {} : { jobLimit: this.memoryCapBytes }),
    };
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
