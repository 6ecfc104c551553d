import { Attr, OnnxModel } from '../onnx/OnnxModel';
import { editType } from '../onnx/onnxEditSchema';
import { ElementType, type AttributeMessage } from '../onnx/onnxMessages';

/** Options of one node written by {@link GraphWriter.op}. */
export interface OpOptions {
  /** The node's name; default `<scope>/<op>_<n>`. */
  readonly name?: string;
  /** The output's name; default `<node name>_output_0`. */
  readonly output?: string;
  readonly attrs?: readonly AttributeMessage[];
}

/** A dimension of a declared graph value: a size or a symbolic name. */
export type Dim = number | string;

/**
 * Appends nodes and constants to a new model in topological order, naming them from a scope
 * (`model.layers.0.self_attn`) the way exporters do, so every name is unique and readable.
 */
export class GraphWriter {
  private counter = 0;
  private constants = 0;
  /** Prefix of generated node names. */
  scope = 'model';

  private constructor(readonly model: OnnxModel) {}

  /** A writer over an empty model importing the default opset at `opset`. */
  static create(opset: number, graphName: string): GraphWriter {
    const T = editType('ModelProto');
    const proto = {
      irVersion: String(opset >= 21 ? 10 : opset >= 19 ? 9 : 8),
      producerName: 'quantscope',
      opsetImport: [{ domain: '', version: String(opset) }],
      graph: { name: graphName },
    };
    return new GraphWriter(OnnxModel.fromBytes(T.encode(T.fromObject(proto)).finish()));
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: readonly string[], options: OpOptions = {}): string {
    const name = options.name ?? `/${this.scope}/${opType}_${this.counter++}`;
    const output = options.output ?? `${name}_output_0`;
    this.model.addNode({ name, opType, input: [...inputs], output: [output], attribute: [...(options.attrs ?? [])] });
    return output;
  }

  /** An int64 constant initializer (a scalar when `dims` is empty). */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = `/const/int64_${this.constants++}`;
    this.model.setInitializer(name, ElementType.INT64, dims, BigInt64Array.from(values, (v) => BigInt(v)));
    return name;
  }

  /** A float32 constant initializer (a scalar when `dims` is empty). */
  float(values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    const name = `/const/float_${this.constants++}`;
    this.model.setInitializer(name, ElementType.FLOAT, dims, Float32Array.from(values));
    return name;
  }

  /** A named float32 initializer (a weight). */
  weight(name: string, dims: readonly number[], values: Float32Array): string {
    this.model.setInitializer(name, ElementType.FLOAT, dims, values);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, elemType: number, shape: readonly Dim[]): string {
    (this.model.graph.input ??= []).push({ name, type: { tensorType: { elemType, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: String(d) } : { dimParam: d })) } } } });
    return name;
  }

  /** Declares `value` a graph output. */
  output(value: string, elemType: number, shape: readonly Dim[]): void {
    this.model.addOutput(value, elemType, shape);
  }

  /** `Unsqueeze(x, axes)` (opset 13: axes as an input). */
  unsqueeze(x: string, axes: readonly number[]): string {
    return this.op('Unsqueeze', [x, this.int64(axes)]);
  }

  /** `Reshape(x, shape)` with ONNX's 0 (copy) and -1 (infer) entries. */
  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.int64(shape)]);
  }

  /** `Transpose(x, perm)`. */
  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { attrs: [Attr.ints('perm', perm)] });
  }
}
