import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BenchParams } from '../../protocol/benchTypes';
import type { ValueSummary } from '../../protocol/modelTypes';
import type { WorkerClient } from '../client/WorkerClient';

/** True for the signature of a decoder with a KV cache: `input_ids` and `past_key_values.*` inputs. */
export function isDecoderSignature(inputs: readonly Pick<ValueSummary, 'name'>[]): boolean {
  return inputs.some((i) => i.name === 'input_ids') && inputs.some((i) => i.name.startsWith('past_key_values.'));
}

/**
 * For a decoder with a KV cache, asks whether to time single runs or generation, with the
 * prompt and token counts from the settings. Returns the parameters to add (none for a model
 * that is not a decoder), or undefined when the user dismissed the pick.
 */
export async function pickBenchMode(worker: WorkerClient, model: vscode.Uri): Promise<Partial<BenchParams> | undefined> {
  // The signature comes from the worker (cached there), so the extension host parses nothing.
  const summary = await worker.request('inspect', { path: model.fsPath }).catch(() => undefined);
  if (!summary || !isDecoderSignature(summary.inputs)) return {};
  const c = vscode.workspace.getConfiguration('quantscope');
  const promptTokens = c.get<number>('benchmark.promptTokens', 32);
  const newTokens = c.get<number>('benchmark.newTokens', 32);
  const rounds = c.get<number>('benchmark.generationRounds', 3);
  const generation = { label: `Generation (prompt ${promptTokens}, ${newTokens} new tokens)`, detail: 'Time to first token, per-token decode latency and tokens/s, greedy decoding with the KV cache fed back', generate: true };
  const latency = { label: 'Latency of one run', detail: 'One forward pass on generated inputs (a prefill with an empty cache), timed repeatedly', generate: false };
  const picked = await vscode.window.showQuickPick([generation, latency], { title: `Benchmark ${path.basename(model.fsPath)}: a decoder with a KV cache` });
  if (!picked) return undefined;
  return picked.generate ? { generate: { promptTokens, newTokens }, runs: rounds, warmup: 1 } : {};
}
