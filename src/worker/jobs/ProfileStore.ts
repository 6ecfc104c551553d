import type { ModelProfile, ProfileKind, WeightProfile } from '../../protocol/workerProtocol';

/** A kept profile: a weight profile, or a calibration's whole-model profile. */
export type KeptProfile = { readonly kind: 'weights'; readonly weights: WeightProfile } | { readonly kind: 'model'; readonly model: ModelProfile };

/**
 * The profiles this worker computed or read, by the extension's cache key, so that findings are
 * derived where the profile already is: sending a 7B profile to the worker would stall the
 * extension host on serializing it as long as deriving there did. Least recently used entries go
 * first; at 7B scale one entry holds some 100 MB, so only a few are kept.
 */
export class ProfileStore {
  private readonly byKey = new Map<string, KeptProfile>();

  constructor(private readonly capacity = 4) {}

  /** Keeps `profile` under `key`, evicting the least recently used beyond the capacity. */
  keep(key: string, profile: KeptProfile): void {
    this.byKey.delete(key);
    this.byKey.set(key, profile);
    while (this.byKey.size > this.capacity) {
      const oldest = this.byKey.keys().next();
      if (oldest.done) break;
      this.byKey.delete(oldest.value);
    }
  }

  /** The profile kept under `key` if it is of `kind`; a hit makes it the most recently used. */
  get(key: string, kind: ProfileKind): KeptProfile | undefined {
    const p = this.byKey.get(key);
    if (!p || p.kind !== kind) return undefined;
    this.byKey.delete(key);
    this.byKey.set(key, p);
    return p;
  }

  /** How many profiles are kept. */
  get size(): number {
    return this.byKey.size;
  }
}
