/**
 * The `inspect` and `modelText` jobs: a model's listing and signature, and its text form. The
 * worker's host and the CLI both call them, so the CLI and the editor take the same code path.
 */
import { basename } from 'node:path';
import { openDecoderSource } from '../../core/decoder';
import { openCheckpoint } from '../../core/formats/registry';
import { isFormatError } from '../../core/FormatError';
import type { DecoderArchitecture } from '../../protocol/modelTypes';
import { printModelText } from '../../core/onnx/ModelTextPrinter';
import type { InspectParams, ModelSummary } from '../../protocol/workerProtocol';
import { type JobContext, throwIfCancelled } from './JobContext';
import { readSignature, runtimeVersion } from '../ort';
import { summarizeCheckpoint } from './summarizeCheckpoint';

/**
 * Summarizes a model. Our own readers list it (any format, reading only headers); for ONNX,
 * ONNX Runtime then loads it too, so the signature shown is the one the runtime will use.
 */
export async function inspectModel(params: InspectParams, ctx: JobContext): Promise<ModelSummary> {
  const t0 = performance.now();
  ctx.progress('Reading the header');
  const checkpoint = await openCheckpoint(params.path);
  throwIfCancelled(ctx);
  const listing = summarizeCheckpoint(checkpoint);
  let signature: Pick<ModelSummary, 'inputs' | 'outputs' | 'runtime'> & { runtimeError?: string } = { inputs: listing.inputs, outputs: listing.outputs };
  if (checkpoint.format === 'onnx') {
    ctx.progress('Loading the model in ONNX Runtime');
    try {
      const s = await readSignature(params.path);
      signature = { inputs: s.inputs, outputs: s.outputs, runtime: runtimeVersion() };
    } catch (e) {
      // The listing is still useful when the runtime rejects the graph (an unknown op, say).
      signature = { ...signature, runtimeError: `ONNX Runtime could not load the model: ${cleanOrtMessage(e)}` };
    }
  }
  const decoder = checkpoint.format === 'onnx' || checkpoint.format === 'numpy' ? undefined : await decoderArchitecture(params.path);
  return {
    path: params.path,
    format: checkpoint.format,
    fileSize: checkpoint.fileSize,
    ...listing,
    ...signature,
    loadMs: performance.now() - t0,
    ...(decoder ? { decoder } : {}),
  };
}

/** The architecture of the language model a checkpoint holds, or undefined when it holds none the engine can build. */
async function decoderArchitecture(path: string): Promise<DecoderArchitecture | undefined> {
  try {
    const c = (await openDecoderSource(path)).config;
    return { family: c.modelType, layers: c.numLayers, hidden: c.hiddenSize, heads: c.numHeads, kvHeads: c.numKvHeads, vocab: c.vocabSize };
  } catch (e) {
    if (isFormatError(e)) return undefined;
    throw e;
  }
}

/** Renders the model as `quantscope-model` text. */
export async function modelText(params: InspectParams): Promise<{ text: string }> {
  const checkpoint = await openCheckpoint(params.path);
  const listing = summarizeCheckpoint(checkpoint);
  return {
    text: printModelText({
      fileName: basename(params.path),
      format: checkpoint.format,
      fileSize: checkpoint.fileSize,
      inputs: listing.inputs,
      outputs: listing.outputs,
      metadata: listing.metadata,
      opsets: checkpoint.graph?.opsets,
      nodes: checkpoint.graph?.nodes,
      tensors: checkpoint.tensors,
    }),
  };
}

/** ONNX Runtime prefixes its messages with status codes; users need only the reason. */
function cleanOrtMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '').trim();
}
