import type { FileAccessor } from '../../io/FileAccessor';
import type { Checkpoint, Graph } from '../Checkpoint';
import { DEFAULT_LIMITS, type FormatReader, type OpenLimits } from '../FormatReader';
import { OnnxScanner, type OnnxModel } from './OnnxScanner';
import { sniffOnnx } from './sniffOnnx';

/**
 * Lists an ONNX model: metadata, opsets, graph and every weight (initializers, Constant nodes and
 * subgraph initializers, which are named `node/attribute/name`). Tensor payloads, inline or external,
 * stay on disk as byte ranges; only headers are read.
 */
export async function readOnnxModel(file: FileAccessor, limits: OpenLimits = DEFAULT_LIMITS): Promise<OnnxModel> {
  return new OnnxScanner(file, limits).scan();
}

/** The computation graph of an ONNX model (nodes, inputs, outputs, opsets), for the worker's graph views. */
export async function readOnnxGraph(file: FileAccessor, limits: OpenLimits = DEFAULT_LIMITS): Promise<Graph> {
  return (await readOnnxModel(file, limits)).graph;
}

/** The ONNX {@link FormatReader}. */
export const onnxReader: FormatReader = {
  name: 'onnx',
  sniff(head: Uint8Array, file: FileAccessor): boolean {
    return sniffOnnx(head, file.size);
  },
  async open(file: FileAccessor, limits: OpenLimits): Promise<Checkpoint> {
    const model = await readOnnxModel(file, limits);
    const external = Object.values(model.externalFiles).reduce((a, b) => a + b, 0);
    const metadata = Object.keys(model.externalFiles).length ? { ...model.metadata, external_data: model.externalFiles } : model.metadata;
    return { format: 'onnx', path: file.path, fileSize: file.size + external, metadata, tensors: model.tensors, graph: model.graph };
  },
};
