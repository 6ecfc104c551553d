import * as path from 'node:path';
import * as vscode from 'vscode';
import { tokenizerBeside } from '../../core/calibration/tokenizerBeside';

/** The user's calibration data for a transform: a file, and for a `.txt` the tokenizer it is read with. */
export interface TransformCalibrationChoice {
  readonly file: string;
  readonly tokenizer?: string;
}

interface Option extends vscode.QuickPickItem {
  readonly value: 'generated' | 'file' | 'text';
}

/**
 * The calibration QuickPick of Quantize and Prune: generated inputs (undefined), the user's data
 * (a file, or a text file with the `tokenizer.json` found beside the model or its checkpoint), or
 * cancelled (null). The text option is offered only when such a tokenizer exists, since the
 * tokenizer must be the model's own for the ids to mean anything.
 */
export async function pickTransformCalibration(model: vscode.Uri, title: string, activations: boolean): Promise<TransformCalibrationChoice | undefined | null> {
  const tokenizer = await tokenizerBeside(model.fsPath);
  const shown = tokenizer ? `${path.basename(path.dirname(tokenizer))}/${path.basename(tokenizer)}` : '';
  const items: Option[] = [
    { label: 'Generated inputs', description: `from the declared input shapes; the report marks them synthetic${activations ? ' (activation ranges of random data)' : ''}`, value: 'generated' },
    { label: 'Calibration file…', description: '.npy / .npz per input name, or a folder of ONNX .pb test data', value: 'file' },
    ...(tokenizer ? [{ label: `Text file (tokenized with ${shown})`, description: 'calibration windows from its start, held-out ones from its end', value: 'text' } as const] : []),
  ];
  const source = await vscode.window.showQuickPick(items, { title });
  if (!source) return null;
  if (source.value === 'generated') return undefined;
  const near = vscode.Uri.file(tokenizer && source.value === 'text' ? path.dirname(tokenizer) : path.dirname(model.fsPath));
  if (source.value === 'text') {
    const f = await vscode.window.showOpenDialog({ title: 'Calibration text', defaultUri: near, filters: { Text: ['txt'] } });
    return f?.[0] && tokenizer ? { file: f[0].fsPath, tokenizer } : null;
  }
  const f = await vscode.window.showOpenDialog({ title: 'Calibration data', canSelectFolders: true, defaultUri: near, filters: { 'Calibration data': ['npy', 'npz', 'pb'] } });
  return f?.[0] ? { file: f[0].fsPath } : null;
}
