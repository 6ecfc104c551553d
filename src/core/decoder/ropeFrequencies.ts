import type { DecoderConfig } from './DecoderConfig';

/**
 * The rotary embedding's inverse frequencies θ^(−2i/d), i < d/2, after the config's scaling.
 * Computed in float64 and rounded once to float32 when written into the graph.
 */
export function ropeFrequencies(c: Pick<DecoderConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float64Array {
  const half = c.headDim / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) out[i] = 1 / Math.pow(c.ropeTheta, (2 * i) / c.headDim);
  const s = c.ropeScaling;
  if (!s) return out;
  for (let i = 0; i < half; i++) {
    const f = out[i];
    switch (s.type) {
      case 'linear':
        out[i] = f / s.factor;
        break;
      case 'factors':
        out[i] = f / s.factors[i];
        break;
      case 'llama3': {
        const wavelength = (2 * Math.PI) / f;
        const lowWavelength = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
        const highWavelength = s.originalMaxPositionEmbeddings / s.highFreqFactor;
        if (wavelength > lowWavelength) out[i] = f / s.factor;
        else if (wavelength >= highWavelength) {
          const smooth = (s.originalMaxPositionEmbeddings / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
          out[i] = ((1 - smooth) * f) / s.factor + smooth * f;
        }
        break;
      }
    }
  }
  return out;
}
