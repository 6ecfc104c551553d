/**
 * ONNX files have no magic number, so the sniff parses the first bytes as a ModelProto and accepts
 * them only when every field is a known ModelProto field with the right wire type, lengths fit in
 * the file, and the start looks like what exporters write (ir_version first, or the graph).
 */

/** Known ModelProto fields and their wire types (0 varint, 2 length-delimited). */
const MODEL_FIELDS: ReadonlyMap<number, number> = new Map([
  [1, 0], [2, 2], [3, 2], [4, 2], [5, 0], [6, 2], [7, 2], [8, 2], [14, 2], [20, 2], [25, 2],
]);

/** Highest IR version we expect to meet for years (IR 10 was current in 2024). */
const MAX_IR_VERSION = 64;

function varint(b: Uint8Array, pos: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < b.length && i < pos + 10; i++) {
    value += (b[i] & 0x7f) * scale;
    if (b[i] < 0x80) return Number.isSafeInteger(value) ? { value, next: i + 1 } : undefined;
    scale *= 128;
  }
  return undefined;
}

/** True when `head` (the first bytes of a file of `fileSize` bytes) plausibly starts a ModelProto. */
export function sniffOnnx(head: Uint8Array, fileSize: number): boolean {
  let pos = 0;
  let fields = 0;
  let sawIr = false;
  let sawGraph = false;
  while (pos < head.length) {
    const tag = varint(head, pos);
    if (!tag) return fields >= 2 && (sawIr || sawGraph); // the head ends inside a tag
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (MODEL_FIELDS.get(field) !== wire) return false;
    if (fields === 0 && field !== 1 && field !== 7 && field !== 2 && field !== 8) return false;
    const v = varint(head, tag.next);
    if (!v) return fields >= 1 && (sawIr || sawGraph);
    if (field === 1) {
      if (v.value < 1 || v.value > MAX_IR_VERSION) return false;
      sawIr = true;
    }
    if (wire === 2) {
      if (v.next + v.value > fileSize) return false;
      if (field === 7) sawGraph = true;
      pos = v.next + v.value;
    } else {
      pos = v.next;
    }
    fields++;
    if (pos > head.length) break; // a long field runs past the head: what we saw was consistent
  }
  return pos === fileSize ? fields > 0 && sawGraph : fields >= 2 && (sawIr || sawGraph);
}
