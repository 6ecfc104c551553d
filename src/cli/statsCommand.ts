/** `quantscope stats FILE`: weight statistics of every (or the named) floating-point tensor. */
import { profileWeights } from '../worker/jobs/profileWeights';
import { ALL_FORMATS, checkInput } from './checkInput';
import type { CliCommand } from './CliCommand';
import { JSON_OPTION, type CommandSpec } from './CommandSpec';
import { UsageError } from './parseArgs';
import { renderStats } from './renderStats';
import { runCliJob } from './runCliJob';

/** What `stats` takes. */
export const STATS_SPEC: CommandSpec = {
  name: 'stats',
  summary: 'Weight statistics of every (or the named) floating-point tensor, any format',
  usage: ['stats FILE [--tensor NAME]... [--group N] [--json]'],
  description: 'Weight statistics of every floating-point tensor of a model or checkpoint of any supported format (or of the named tensors): range, moments, outliers, and the SQNR of INT8 and INT4 rounding.',
  arguments: [{ name: 'FILE', help: 'The model or checkpoint', count: 'one' }],
  options: [
    { name: 'tensor', kind: 'string', placeholder: 'NAME', repeatable: true, help: 'Only this tensor (default: every floating-point tensor)' },
    { name: 'group', kind: 'int', min: 1, default: 128, help: 'Group size of the INT4 group scheme' },
    JSON_OPTION,
  ],
  examples: ['stats model.safetensors --tensor model.layers.0.mlp.down_proj.weight'],
};

/** `quantscope stats`: 0 done, 1 unreadable, 2 usage, 130 interrupted. */
export const STATS_COMMAND: CliCommand = {
  spec: STATS_SPEC,
  run: async (args, output) => {
    const path = args.positional[0];
    await checkInput(path, 'stats', ALL_FORMATS);
    const tensors = args.strings('tensor');
    const groupSize = args.number('group');
    return runCliJob('stats', async (ctx) => {
      const profile = await profileWeights({ path, ...(tensors.length ? { tensors } : {}), ...(groupSize ? { groupSize } : {}) }, ctx);
      const missing = tensors.filter((n) => !profile.tensors.some((t) => t.name === n));
      if (missing.length) throw new UsageError(`no floating-point tensor named ${missing.map((m) => `"${m}"`).join(', ')} in ${path}`, 'stats');
      return profile;
    }, renderStats, args.json, 'interrupted', output);
  },
};
