import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after } from 'node:test';
import { fixture, npmModel } from './paths';

/** The MatMul layers of the PP-OCR recognizer that the transform tests edit. */
export const OCR_LAYERS = ['p2o.MatMul.0', 'p2o.MatMul.8', 'p2o.MatMul.10'];

/** A temporary folder with private copies of the models the transform tests edit. */
export interface TransformModels {
  /** The temporary folder, removed after the tests. */
  readonly dir: string;
  /** A private copy of a model, so outputs land beside it in the temporary folder. */
  readonly copy: (path: string, name?: string) => string;
  readonly tiny: string;
  readonly transformer: string;
  readonly ocr: string;
}

/** Makes a temporary folder named after `prefix` (removed after the tests) and copies the tiny MLP, transformer and OCR models into it. */
export function transformModels(prefix: string): TransformModels {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = (path: string, name = basename(path)): string => {
    const target = join(dir, name);
    if (!existsSync(target)) copyFileSync(path, target);
    return target;
  };
  return {
    dir,
    copy,
    tiny: copy(fixture('workspace', 'tiny_mlp.onnx')),
    transformer: copy(fixture('onnx', 'transformer.onnx')),
    ocr: copy(npmModel('@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx'), 'ppocr_rec.onnx'),
  };
}
