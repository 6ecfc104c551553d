import { FormatError } from '../FormatError';
import { ElementType, type GraphMessage, type ModelMessage, type TensorMessage } from './onnxMessages';
import { editType } from './onnxEditSchema';
import { isExternal, rawByteLength, tensorElements } from './tensorData';
import { lengthDelimitedHeader, piecesSize, type Piece } from './wirePieces';

/** Where large initializers go when a model is written with external data. */
export interface ExternalDataLayout {
  /** The data file's name relative to the model (`model.onnx.data`). */
  readonly location: string;
  /** Initializers with at least this many bytes go to the data file. */
  readonly threshold: number;
  /** Offsets of tensors of at least {@link alignThreshold} bytes are multiples of this (page size, so they can be mapped). */
  readonly align: number;
  /** Size from which a tensor is aligned to {@link align}; smaller ones are aligned to 16 bytes. */
  readonly alignThreshold: number;
}

/** An encoded model: the `.onnx` pieces and, with external data, the data file's pieces. */
export interface EncodedModel {
  readonly model: readonly Piece[];
  readonly modelSize: number;
  readonly data: readonly Piece[];
  readonly dataSize: number;
}

/** Gives the raw little-endian bytes of a tensor, possibly lazily (from an external file). */
export type TensorPayload = (t: TensorMessage) => Piece;

const GRAPH_FIELD = 7;
const INITIALIZER_FIELD = 5;
const RAW_DATA_FIELD = 9;
/** Below this a tensor is encoded by protobufjs in one go: splitting it out saves nothing. */
const SPLIT_BYTES = 4096;

function encodeMessage(type: string, value: object): Uint8Array {
  const t = editType(type);
  return t.encode(t.fromObject(value)).finish();
}

/** The tensor without any of its value fields, to which raw data or an external reference is added. */
function tensorHeader(t: TensorMessage): TensorMessage {
  const rest: TensorMessage = { ...t };
  delete rest.rawData;
  delete rest.floatData;
  delete rest.int32Data;
  delete rest.int64Data;
  delete rest.doubleData;
  delete rest.uint64Data;
  delete rest.externalData;
  delete rest.dataLocation;
  return rest;
}

function byteSize(t: TensorMessage): number | undefined {
  if (t.dataType === ElementType.STRING) return undefined;
  try {
    return rawByteLength(t.dataType ?? 0, tensorElements(t));
  } catch {
    return undefined;
  }
}

/**
 * Encodes a model as pieces. Initializers of the main graph that are large, or whose bytes live
 * in an external file, are framed by hand so their bytes are never copied; with `external` they
 * are referenced from a separate data file instead. Everything else is encoded by protobufjs.
 */
export function encodeModel(model: ModelMessage, payload: TensorPayload, external?: ExternalDataLayout): EncodedModel {
  const graph: GraphMessage = model.graph ?? {};
  const head: ModelMessage = { ...model };
  delete head.graph;
  const graphHead: GraphMessage = { ...graph, initializer: [] };
  const graphPieces: Piece[] = [encodeMessage('GraphProto', graphHead)];
  const data: Piece[] = [];
  let dataSize = 0;
  for (const t of graph.initializer ?? []) {
    const size = byteSize(t);
    const big = size !== undefined && (size >= SPLIT_BYTES || isExternal(t));
    if (size === undefined || !big) {
      if (isExternal(t)) throw new FormatError(`external tensor ${t.name ?? ''} has no fixed-size layout`, { format: 'onnx' });
      const bytes = encodeMessage('TensorProto', t);
      graphPieces.push(lengthDelimitedHeader(INITIALIZER_FIELD, bytes.length), bytes);
      continue;
    }
    if (external && size >= external.threshold) {
      const align = size >= external.alignThreshold ? external.align : 16;
      const pad = (align - (dataSize % align)) % align;
      if (pad) data.push(new Uint8Array(pad));
      const offset = dataSize + pad;
      data.push(payload(t));
      dataSize = offset + size;
      const header = encodeMessage('TensorProto', {
        ...tensorHeader(t),
        dataLocation: 1,
        externalData: [
          { key: 'location', value: external.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(size) },
        ],
      });
      graphPieces.push(lengthDelimitedHeader(INITIALIZER_FIELD, header.length), header);
      continue;
    }
    const header = encodeMessage('TensorProto', tensorHeader(t));
    const rawFrame = lengthDelimitedHeader(RAW_DATA_FIELD, size);
    graphPieces.push(lengthDelimitedHeader(INITIALIZER_FIELD, header.length + rawFrame.length + size), header, rawFrame, payload(t));
  }
  const graphSize = piecesSize(graphPieces);
  const modelPieces: Piece[] = [encodeMessage('ModelProto', head), lengthDelimitedHeader(GRAPH_FIELD, graphSize), ...graphPieces];
  return { model: modelPieces, modelSize: piecesSize(modelPieces), data, dataSize };
}
