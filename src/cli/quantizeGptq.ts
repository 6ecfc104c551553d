/**
 * `quantscope quantize MODEL --to safetensors-gptq`: a Hugging Face checkpoint quantized into a
 * new folder of GPTQ-layout safetensors, with the quantize command's --method, --bits, --group,
 * --asym, --act-order, --damp and calibration options.
 */
import type { GptqExportParams } from '../protocol/gptqExportTypes';
import type { QuantizeCalibration } from '../protocol/transformTypes';
import { exportGptq } from '../worker/jobs/exportGptq';
import { checkFile } from './checkInput';
import type { ParsedArgs } from './parseArgs';
import { UsageError } from './parseArgs';
import { renderGptqExport } from './renderGptqExport';
import { runCliJob, type CliOutput } from './runCliJob';

/** Options of `quantize` that do not apply to a GPTQ folder. */
const NOT_FOR_GPTQ = ['format', 'recipe', 'plan-only', 'layers', 'overwrite'];

/** The job parameters from a parsed `quantize --to safetensors-gptq` command line. */
export async function gptqExportParams(args: ParsedArgs, calibration: QuantizeCalibration | undefined): Promise<GptqExportParams> {
  const path = args.positional[0];
  if (path === undefined) throw new UsageError('quantize --to safetensors-gptq needs MODEL (a Hugging Face folder)', 'quantize');
  await checkFile(path, { folders: true });
  const given = NOT_FOR_GPTQ.find((o) => args.has(o));
  if (given !== undefined) throw new UsageError(`--${given} does not apply to --to safetensors-gptq${given === 'overwrite' ? ', which always writes a new folder' : ''}`, 'quantize');
  const method = args.string('method') ?? 'gptq';
  if (method !== 'gptq' && method !== 'rtn') throw new UsageError(`--to safetensors-gptq takes --method gptq or rtn, not ${method}`, 'quantize');
  const bits = args.string('bits') === undefined ? undefined : Number(args.string('bits'));
  if (bits !== undefined && bits !== 4 && bits !== 8) throw new UsageError(`--to safetensors-gptq writes 4 or 8 bits, not ${bits}`, 'quantize');
  if (method === 'rtn' && args.has('act-order')) throw new UsageError('--act-order goes with --method gptq', 'quantize');
  const fields: GptqExportParams = {
    path,
    output: args.string('output'),
    bits,
    groupSize: args.number('group'),
    symmetric: args.has('asym') ? false : undefined,
    actOrder: args.has('act-order') || undefined,
    damping: args.number('damp'),
    rounding: method,
    calibration,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as unknown as GptqExportParams;
}

/** Runs the GPTQ export for a parsed command line (its calibration options already read) and prints its report. */
export async function runQuantizeGptq(args: ParsedArgs, calibration: QuantizeCalibration | undefined, output: CliOutput): Promise<number> {
  const params = await gptqExportParams(args, calibration);
  return runCliJob('quantize', (ctx) => exportGptq(params, ctx), renderGptqExport, args.json, 'interrupted; no folder was written', output);
}
