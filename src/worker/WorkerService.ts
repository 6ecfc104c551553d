import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { printModelText } from '../core/onnx/ModelTextPrinter';
import { FormatError } from '../core/FormatError';
import type { InspectParams, ModelSummary, PingResult } from '../protocol/workerProtocol';
import { type JobContext, throwIfCancelled } from './JobContext';
import { readSignature, runtimeVersion } from './ort';

const started = Date.now();

/**
 * The worker's requests as plain async functions. The JSON-RPC server in `main.ts` and the CLI
 * both call these, so the CLI and the editor take the same code path.
 */
export class WorkerService {
  /** Answers with this process's identity; used to check that the worker is alive. */
  ping(): PingResult {
    return { pid: process.pid, node: process.version, uptimeMs: Date.now() - started };
  }

  /** Summarizes a model: inputs and outputs from ONNX Runtime. */
  async inspect(params: InspectParams, ctx: JobContext): Promise<ModelSummary> {
    const { path } = params;
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) throw new FormatError(`${path} is not a file`);
      size = s.size;
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    if (size === 0) throw new FormatError(`${path} is empty`);
    ctx.progress('Loading the model in ONNX Runtime');
    throwIfCancelled(ctx);
    let signature;
    try {
      signature = await readSignature(path);
    } catch (e) {
      throw new FormatError(`ONNX Runtime could not load the model: ${cleanOrtMessage(e)}`, { format: 'onnx', cause: e });
    }
    return {
      path,
      format: 'onnx',
      fileSize: size,
      inputs: signature.inputs,
      outputs: signature.outputs,
      metadata: {},
      tensors: [],
      parameterCount: 0,
      dtypes: [],
      runtime: runtimeVersion(),
      loadMs: signature.loadMs,
    };
  }
}

/** Renders the model as `quantscope-model` text. */
export async function modelText(service: WorkerService, params: InspectParams, ctx: JobContext): Promise<{ text: string }> {
  const s = await service.inspect(params, ctx);
  return { text: printModelText({ ...s, fileName: basename(s.path) }) };
}

/** ONNX Runtime prefixes its messages with source locations; users need only the reason. */
function cleanOrtMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '').trim();
}
