/** The `exportDecoder` job on the wire: build a language-model checkpoint into an ONNX decoder and save it. */

/** Parameters of `exportDecoder`. */
export interface ExportParams {
  /** A Hugging Face folder (or its `config.json`, `model.safetensors`, index), Meta-named weights, or a `.gguf`. */
  readonly path: string;
  /** Where to write; default `model.onnx` in the model's folder (`NAME.onnx` beside a `.gguf`), numbered when taken. Never overwritten. */
  readonly output?: string;
}

/** What `exportDecoder` built and wrote. */
export interface ExportReport {
  readonly source: string;
  readonly output: string;
  /** The external data file, when the weights went beyond what one protobuf message holds. */
  readonly dataFile?: string;
  /** `llama`, `mistral` or `qwen2`. */
  readonly family: string;
  /** The format the weights were read from (`safetensors`, `gguf`, `pytorch`). */
  readonly sourceFormat: string;
  readonly layers: number;
  readonly hidden: number;
  readonly intermediate: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocab: number;
  /** Parameters of the checkpoint (a tied output head counted once). */
  readonly parameterCount: number;
  /** The model file and its external data together. */
  readonly fileBytes: number;
  readonly seconds: { readonly build: number; readonly save: number; readonly load: number; readonly total: number };
  /** The ONNX Runtime version that loaded the result. */
  readonly runtimeVersion: string;
}

/** How a job got the ONNX graph of a language-model checkpoint it was given. */
export interface DecoderGraphInfo {
  /** The cached graph the job ran on. */
  readonly graph: string;
  /** True when the cached graph was still current and reused; false when it was (re)built. */
  readonly cacheHit: boolean;
  /** Seconds spent building and saving it (0 on a cache hit). */
  readonly buildSeconds: number;
}
