import type { DecoderConfig, DecoderSource } from '../../src/core/decoder';
import { decoderTensors } from '../../src/core/decoder/decoderTensors';
import type { TensorInfo } from '../../src/core/formats/Checkpoint';
import { seededRandom } from '../../src/core/random/seededRandom';

/**
 * A decoder's weights made on demand from a seeded generator: each tensor's own seed, values
 * uniform with the standard deviation 1/√in that keeps activations of this depth in range, and
 * RMSNorm weights of one. No file is written, so the build reads nothing from disk.
 */
export class RandomDecoderSource implements DecoderSource {
  readonly path = 'random-llama';
  readonly files: readonly string[] = [];
  readonly format = 'safetensors' as const;
  readonly naming = 'hf' as const;
  readonly float32Bytes: number;
  private readonly shapes: Map<string, readonly number[]>;

  constructor(readonly config: DecoderConfig) {
    this.shapes = new Map(decoderTensors(config).map((t) => [t.name, t.shape]));
    this.float32Bytes = [...this.shapes.values()].reduce((s, d) => s + 4 * d.reduce((a, b) => a * b, 1), 0);
  }

  tensor(): TensorInfo | undefined {
    return undefined;
  }

  read(name: string): Promise<Float32Array> {
    const shape = this.shapes.get(name);
    if (!shape) throw new Error(`no tensor ${name}`);
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('norm.weight')) return Promise.resolve(out.fill(1));
    let seed = 0;
    for (const ch of name) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
    const random = seededRandom(seed);
    // Uniform on [−a, a] has standard deviation a/√3.
    const a = Math.sqrt(3 / shape[shape.length - 1]);
    for (let i = 0; i < out.length; i++) out[i] = (2 * random() - 1) * a;
    return Promise.resolve(out);
  }
}

