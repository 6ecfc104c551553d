import type { OnnxModel } from '../OnnxModel';

/**
 * Hands out names that clash with nothing in a graph. Rewrites must not reuse a value or node
 * name: ONNX requires single assignment, and a clash would silently rewire another consumer.
 */
export class NameAllocator {
  private readonly used: Set<string>;

  constructor(model: OnnxModel) {
    this.used = model.usedNames();
  }

  /** `base`, or `base_1`, `base_2`, … whichever is free; the name is taken from then on. */
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}
