import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The `tokenizer.json` that belongs to a model, or undefined: in a checkpoint folder, beside a
 * checkpoint file or an ONNX model, or beside the checkpoint a cached built graph
 * (`<folder>/.quantscope/decoder/…`) was made from. Hugging Face puts the tokenizer next to the
 * weights, so this is where a user's text calibration finds it without a file dialog.
 */
export async function tokenizerBeside(modelPath: string): Promise<string | undefined> {
  const info = await stat(modelPath).catch(() => undefined);
  const folder = info?.isDirectory() ? modelPath : dirname(modelPath);
  const folders = [folder];
  if (basename(folder) === 'decoder' && basename(dirname(folder)) === '.quantscope') folders.push(dirname(dirname(folder)));
  for (const f of folders) {
    const candidate = join(f, 'tokenizer.json');
    if (await stat(candidate).then((s) => s.isFile(), () => false)) return candidate;
  }
  return undefined;
}
