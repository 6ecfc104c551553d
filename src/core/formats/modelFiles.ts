/**
 * The one list of model-file extensions: what the checkpoint editor opens by default or offers
 * through "Open With…", and which reader a file's extension claims when its content matches none.
 * package.json's activation and editor selectors are checked against it by a unit test.
 */

/** The readers an extension can name (npy and npz are both NumPy, but read apart). */
export type ClaimedReader = 'onnx' | 'safetensors' | 'gguf' | 'npy' | 'npz' | 'pytorch';

/** One kind of model file. */
export interface ModelFileKind {
  /** With its dot, lower case: `.onnx`. */
  readonly extension: string;
  /** The reader the extension claims; undefined where it says nothing about the format (`.bin`). */
  readonly claims: ClaimedReader | undefined;
  /** `default`: the checkpoint editor opens it; `option`: offered through "Open With…" only. */
  readonly editor: 'default' | 'option';
}

export const MODEL_FILES: readonly ModelFileKind[] = [
  { extension: '.onnx', claims: 'onnx', editor: 'default' },
  { extension: '.safetensors', claims: 'safetensors', editor: 'default' },
  { extension: '.gguf', claims: 'gguf', editor: 'default' },
  { extension: '.npz', claims: 'npz', editor: 'default' },
  { extension: '.npy', claims: 'npy', editor: 'default' },
  { extension: '.pt', claims: 'pytorch', editor: 'default' },
  { extension: '.pth', claims: 'pytorch', editor: 'default' },
  // Hugging Face's pytorch_model.bin, but also any other binary: sniffed by content only.
  { extension: '.bin', claims: undefined, editor: 'option' },
];

/** The extensions without the dot, as file dialogs and globs take them. */
export const MODEL_EXTENSIONS: readonly string[] = MODEL_FILES.map((f) => f.extension.slice(1));
