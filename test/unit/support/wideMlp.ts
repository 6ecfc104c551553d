import { OnnxModel } from '../../../src/core/onnx/OnnxModel';
import { editType } from '../../../src/core/onnx/onnxEditSchema';
import { ElementType, type ModelMessage, type NodeMessage, type TensorMessage } from '../../../src/core/onnx/onnxMessages';
import { seededRandom } from '../../../src/core/random/seededRandom';

/**
 * Writes an ONNX MLP of `layers` MatMul + Relu blocks with `width` × `width` float weights from a
 * seeded generator: large enough (4·width²·layers bytes) that writing a transform of it takes
 * measurable time, so a fault can land in the middle of the write.
 */
export async function writeWideMlp(path: string, width: number, layers: number, seed = 1): Promise<void> {
  const rnd = seededRandom(seed);
  const scale = 2 / Math.sqrt(width);
  const initializer: TensorMessage[] = [];
  const node: NodeMessage[] = [];
  let x = 'x';
  for (let i = 0; i < layers; i++) {
    const w = Float32Array.from({ length: width * width }, () => (rnd() * 2 - 1) * scale);
    initializer.push({ name: `fc${i}.weight`, dataType: ElementType.FLOAT, dims: [String(width), String(width)], rawData: new Uint8Array(w.buffer) });
    const last = i === layers - 1;
    node.push({ name: `fc${i}/MatMul`, opType: 'MatMul', input: [x, `fc${i}.weight`], output: [last ? 'y' : `h${i}`] });
    if (!last) {
      node.push({ name: `relu${i}`, opType: 'Relu', input: [`h${i}`], output: [`a${i}`] });
      x = `a${i}`;
    }
  }
  const shape = { dim: [{ dimParam: 'batch' }, { dimValue: String(width) }] };
  const proto: ModelMessage = {
    irVersion: '8',
    opsetImport: [{ domain: '', version: '17' }],
    graph: {
      name: 'wide_mlp',
      node,
      initializer,
      input: [{ name: 'x', type: { tensorType: { elemType: ElementType.FLOAT, shape } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: ElementType.FLOAT, shape } } }],
    },
  };
  const T = editType('ModelProto');
  await OnnxModel.fromBytes(T.encode(T.fromObject(proto)).finish()).save(path);
}
