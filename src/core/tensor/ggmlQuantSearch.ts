/**
 * The scale searches behind ggml's k-quant reference quantizers (ggml-quants.c): make_qkx2_quants
 * (affine, scale + min, weighted least squares over a few candidate scales), make_qx_quants
 * (symmetric, weighted by x² or by importance, candidate scales nmax ± 0.1·k), make_q3_quants
 * (symmetric with coordinate-descent refinement) and make_qp_quants (non-negative scales against
 * one scale, importance-weighted). Every operation is rounded to float32 in the C code's order.
 */
import { nearestInt } from './ggmlRounding';

const f = Math.fround;
/** ggml's GROUP_MAX_EPS: a group whose absmax is below this quantizes to zero. */
export const GROUP_MAX_EPS = f(1e-15);

/**
 * make_qkx2_quants over `x[xo .. xo+n)`: levels 0..nmax into `L[lo ..]`, returns the scale and writes
 * the (negated) minimum to `minOut[mi]`. `laux` is scratch of at least n entries.
 */
export function makeQkx2Quants(
  n: number, nmax: number, x: Float32Array, xo: number, w: Float32Array, L: Uint8Array, lo: number,
  minOut: Float32Array, mi: number, laux: Uint8Array, rmin: number, rdelta: number, nstep: number, useMad: boolean,
): number {
  let min = x[xo];
  let max = x[xo];
  let sumW = w[0];
  let sumX = f(sumW * x[xo]);
  for (let i = 1; i < n; i++) {
    const v = x[xo + i];
    if (v < min) min = v;
    if (v > max) max = v;
    sumW = f(sumW + w[i]);
    sumX = f(sumX + f(w[i] * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, lo, lo + n);
    minOut[mi] = -min;
    return 0;
  }
  const range = f(max - min);
  let iscale = f(nmax / range);
  let scale = f(1 / iscale);
  let bestMad = 0;
  for (let i = 0; i < n; i++) {
    const l = Math.max(0, Math.min(nmax, nearestInt(f(iscale * f(x[xo + i] - min)))));
    L[lo + i] = l;
    const diff = f(f(f(scale * l) + min) - x[xo + i]);
    bestMad = f(bestMad + f(w[i] * (useMad ? Math.abs(diff) : f(diff * diff))));
  }
  if (nstep < 1) {
    minOut[mi] = -min;
    return scale;
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = f(f(f(rmin + f(rdelta * is)) + nmax) / range);
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      const l = Math.max(0, Math.min(nmax, nearestInt(f(iscale * f(v - min)))));
      laux[i] = l;
      const wl = f(w[i] * l);
      sumL = f(sumL + wl);
      sumL2 = f(sumL2 + f(wl * l));
      sumXL = f(sumXL + f(wl * v));
    }
    const D = f(f(sumW * sumL2) - f(sumL * sumL));
    if (D > 0) {
      let thisScale = f(f(f(sumW * sumXL) - f(sumX * sumL)) / D);
      let thisMin = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = f(sumXL / sumL2);
      }
      let mad = 0;
      for (let i = 0; i < n; i++) {
        const diff = f(f(f(thisScale * laux[i]) + thisMin) - x[xo + i]);
        mad = f(mad + f(w[i] * (useMad ? Math.abs(diff) : f(diff * diff))));
      }
      if (mad < bestMad) {
        for (let i = 0; i < n; i++) L[lo + i] = laux[i];
        bestMad = mad;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  minOut[mi] = -min;
  return scale;
}

function absMaxSigned(n: number, x: Float32Array, xo: number): [number, number] {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xo + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xo + i];
    }
  }
  return [amax, max];
}

/**
 * make_qx_quants with rmse_type 1: levels l + nmax into `L[lo ..]`, returns the scale. The error
 * weights are x² unless importance weights `qw[qo .. qo+n)` are given (the imatrix path).
 */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, xo: number, L: Uint8Array | Int8Array, lo: number, qw?: Float32Array, qo = 0): number {
  const [amax, max] = absMaxSigned(n, x, xo);
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  let iscale = f(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(f(iscale * v))));
    L[lo + i] = l + nmax;
    const w = qw ? qw[qo + i] : f(v * v);
    sumlx = f(sumlx + f(f(w * v) * l));
    suml2 = f(suml2 + f(f(w * l) * l));
  }
  let scale = suml2 ? f(sumlx / suml2) : 0;
  let best = f(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = f(-f(nmax + f(f(0.1) * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(f(iscale * v))));
      const w = qw ? qw[qo + i] : f(v * v);
      sumlx = f(sumlx + f(f(w * v) * l));
      suml2 = f(suml2 + f(f(w * l) * l));
    }
    if (suml2 > 0 && f(sumlx * sumlx) > f(best * suml2)) {
      for (let i = 0; i < n; i++) L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, nearestInt(f(iscale * x[xo + i]))));
      scale = f(sumlx / suml2);
      best = f(scale * sumlx);
    }
  }
  return scale;
}

/** make_q3_quants with do_rmse: signed levels refined by coordinate descent, stored as l + nmax. */
export function makeQ3Quants(n: number, nmax: number, x: Float32Array, xo: number, L: Int8Array, lo: number): number {
  const [amax, max] = absMaxSigned(n, x, xo);
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + n);
    return 0;
  }
  const iscale = f(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const l = Math.max(-nmax, Math.min(nmax - 1, nearestInt(f(iscale * v))));
    L[lo + i] = l;
    const w = f(v * v);
    sumlx = f(sumlx + f(f(w * v) * l));
    suml2 = f(suml2 + f(f(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const v = x[xo + i];
      const w = f(v * v);
      const li = L[lo + i];
      let slx = f(sumlx - f(f(w * v) * li));
      if (slx > 0) {
        let sl2 = f(suml2 - f(f(w * li) * li));
        const nl = Math.max(-nmax, Math.min(nmax - 1, nearestInt(f(f(v * sl2) / slx))));
        if (nl !== li) {
          slx = f(slx + f(f(w * v) * nl));
          sl2 = f(sl2 + f(f(w * nl) * nl));
          if (sl2 > 0 && f(f(slx * slx) * suml2) > f(f(sumlx * sumlx) * sl2)) {
            L[lo + i] = nl;
            sumlx = slx;
            suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (let i = 0; i < n; i++) L[lo + i] += nmax;
  return f(sumlx / suml2);
}

/**
 * make_qp_quants: non-negative `x[0 .. n)` (sub-block scales or mins) as levels 0..nmax into `L`
 * against one scale, chosen by weighted least squares over candidates nmax ± 0.1·k and refined
 * level by level; returns the scale. The k-quants' imatrix path quantizes its scales with it,
 * weighted by each sub-block's summed importance `qw`.
 */
export function makeQpQuants(n: number, nmax: number, x: Float32Array, L: Uint8Array, qw: Float32Array): number {
  let max = 0;
  for (let i = 0; i < n; i++) max = max > x[i] ? max : x[i];
  if (!max) {
    L.fill(0, 0, n);
    return 0;
  }
  let iscale = f(nmax / max);
  for (let i = 0; i < n; i++) L[i] = nearestInt(f(iscale * x[i])) & 255;
  const scale = f(1 / iscale);
  let bestMse = 0;
  for (let i = 0; i < n; i++) {
    const diff = f(x[i] - f(scale * L[i]));
    bestMse = f(bestMse + f(f(qw[i] * diff) * diff));
  }
  for (let is = -4; is <= 4; is++) {
    if (is === 0) continue;
    const iscaleIs = f(f(f(f(0.1) * is) + nmax) / max);
    const scaleIs = f(1 / iscaleIs);
    let mse = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.min(nmax, nearestInt(f(iscaleIs * x[i])));
      const diff = f(x[i] - f(scaleIs * l));
      mse = f(mse + f(f(qw[i] * diff) * diff));
    }
    if (mse < bestMse) {
      bestMse = mse;
      iscale = iscaleIs;
    }
  }
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const l = Math.min(nmax, nearestInt(f(iscale * x[i])));
    L[i] = l & 255;
    const w = qw[i];
    sumlx = f(sumlx + f(f(w * x[i]) * l));
    suml2 = f(suml2 + f(f(w * l) * l));
  }
  for (let itry = 0; itry < 5; itry++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const w = qw[i];
      const li = L[i];
      let slx = f(sumlx - f(f(w * x[i]) * li));
      let sl2 = f(suml2 - f(f(w * li) * li));
      if (slx > 0 && sl2 > 0) {
        const nl = Math.min(nmax, nearestInt(f(f(x[i] * sl2) / slx)));
        if (nl !== li) {
          slx = f(slx + f(f(w * x[i]) * nl));
          sl2 = f(sl2 + f(f(w * nl) * nl));
          if (f(f(slx * slx) * suml2) > f(f(sumlx * sumlx) * sl2)) {
            L[i] = nl & 255;
            sumlx = slx;
            suml2 = sl2;
            changed++;
          }
        }
      }
    }
    if (!changed) break;
  }
  return f(sumlx / suml2);
}
