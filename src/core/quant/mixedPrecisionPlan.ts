import { layoutFor, scaleCount, type QuantScheme } from './QuantScheme';
import type { LayerSensitivity } from './sensitivity';
import type { MixedPrecisionPlan, PlanBudget, PlanChoice, PlanLayer, PlannedLayer, PlanOptimality, PlanTotals, QuantPlanChoice } from '../../protocol/planTypes';

// The plan's data types are wire vocabulary, owned by the protocol.
export type { MixedPrecisionPlan, PlanBudget, PlanChoice, PlanLayer, PlannedLayer, PlanOptimality, PlanTotals, QuantPlanChoice };

/**
 * The mixed-precision planner (HAWQ, Dong 2019): give every layer one precision so that the summed
 * Hessian-weighted relative error Σ_l tr(ΔW_l·H_l·ΔW_lᵀ)/tr(W_l·H_l·W_lᵀ) is smallest under a size
 * budget, or the size is smallest under an error budget. Choosing one item per layer with additive
 * size and error is the multiple-choice knapsack problem, which we solve exactly by dynamic
 * programming over integer sizes.
 */

/** Every precision, from the largest to the smallest storage. */
export const PLAN_CHOICES: readonly PlanChoice[] = ['float', 'int8-channel', 'int4-g128', 'int4-channel'];

// The ids match DEFAULT_SENSITIVITY_CANDIDATES, so a sensitivity row maps onto choices one to one.
const SCHEMES: Readonly<Record<QuantPlanChoice, QuantScheme>> = {
  'int8-channel': { bits: 8, symmetric: true, granularity: 'channel' },
  'int4-g128': { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 },
  'int4-channel': { bits: 4, symmetric: true, granularity: 'channel' },
};

/** Whether `value` names a {@link PlanChoice}. */
export function isPlanChoice(value: unknown): value is PlanChoice {
  return typeof value === 'string' && (PLAN_CHOICES as readonly string[]).includes(value);
}

/** The quantization scheme of a choice (symmetric; g128 is group size 128), or null for float. */
export function schemeOfChoice(choice: PlanChoice): QuantScheme | null {
  return choice === 'float' ? null : SCHEMES[choice];
}

/**
 * Total stored bits of a W [outFeatures, inFeatures] at `choice`: the codes plus one float32 scale
 * per scale group (symmetric schemes store no zero points), exactly as {@link layoutFor} and
 * {@link scaleCount} lay the tensor out. Always an integer.
 */
export function choiceBits(choice: PlanChoice, inFeatures: number, outFeatures: number): number {
  const scheme = schemeOfChoice(choice);
  if (scheme === null) return 32 * inFeatures * outFeatures;
  const layout = layoutFor(scheme, outFeatures, inFeatures);
  return scheme.bits * inFeatures * outFeatures + 32 * scaleCount(layout);
}

/**
 * Stored bits per weight including float32 scales: float 32, int8-channel 8 + 32/in,
 * int4-g128 4 + 32·⌈in/128⌉/in, int4-channel 4 + 32/in. An empty weight reports the code width.
 */
export function choiceBitsPerWeight(choice: PlanChoice, inFeatures: number, outFeatures: number): number {
  const weights = inFeatures * outFeatures;
  if (weights === 0) return schemeOfChoice(choice)?.bits ?? 32;
  return choiceBits(choice, inFeatures, outFeatures) / weights;
}

/** The stored bits of `choice` for layer `l`: the writer's figure when given, else {@link choiceBits}. */
export function layerChoiceBits(l: PlanLayer, choice: PlanChoice): number {
  return (choice === 'float' ? undefined : l.storedBits?.[choice]) ?? choiceBits(choice, l.inFeatures, l.outFeatures);
}

/** Options of {@link planMixedPrecision} and {@link greedyPlan}. */
export interface PlanOptions {
  /** Precisions the plan may use (default all of {@link PLAN_CHOICES}); float must be allowed for error-free layers. */
  readonly allowed?: readonly PlanChoice[];
  /** Largest dynamic-programming table (layers × capacity units); above it sizes are rounded. Default 5e7. */
  readonly maxCells?: number;
  /** Above this many layers {@link planMixedPrecision} uses {@link greedyPlan}. Default 4096. */
  readonly maxDpLayers?: number;
}

const DEFAULT_MAX_CELLS = 5e7;
const DEFAULT_MAX_DP_LAYERS = 4096;

/** A layer's available choice with its integer size and error. */
interface Item {
  readonly choice: PlanChoice;
  readonly bits: number;
  readonly error: number;
}

/** Validated input: per layer, the Pareto-optimal items by ascending size (and so strictly descending error). */
interface Prepared {
  readonly layers: readonly PlanLayer[];
  readonly items: readonly (readonly Item[])[];
  readonly weights: number;
}

/**
 * Plans precisions by exact dynamic programming over the multiple-choice knapsack.
 *
 * Let s_l(k), e_l(k) be the stored bits and error of choice k for layer l, and
 * f_l(c) = min Σ_{j≤l} e_j(k_j) subject to Σ_{j≤l} s_j(k_j) ≤ c. Then
 * f_l(c) = min_k f_{l−1}(c − s_l(k)) + e_l(k), with f_0 ≡ 0, and f_L is non-increasing in c.
 * A bits budget B gives capacity C = ⌊B·Σ in·out⌋ and the answer f_L(C); an error budget E takes
 * the smallest c with f_L(c) ≤ E. Ties prefer fewer bits: we return the plan at the smallest c
 * attaining the optimal value. Sizes are taken above each layer's smallest choice, in units of
 * their gcd, so the table is exact whenever layers × capacity ≤ `maxCells`; otherwise sizes are
 * rounded UP to u bits (the budget is still never exceeded) and the plan is optimal for the rounded
 * sizes, i.e. no worse than the exact optimum under a budget layers·u bits smaller. When rounding,
 * the {@link greedyPlan} result is also computed and the better of the two is returned.
 * Above `maxDpLayers` layers (or when the table cannot have two units per layer) the planner is
 * {@link greedyPlan}.
 *
 * @throws RangeError on invalid shapes, errors or budgets, duplicate layer names, or a layer with
 * no allowed choice.
 */
export function planMixedPrecision(layers: readonly PlanLayer[], budget: PlanBudget, options: PlanOptions = {}): MixedPrecisionPlan {
  const prepared = prepare(layers, budget, options.allowed);
  const maxCells = options.maxCells ?? DEFAULT_MAX_CELLS;
  const L = prepared.items.length;
  if (L > (options.maxDpLayers ?? DEFAULT_MAX_DP_LAYERS) || Math.floor(maxCells / Math.max(L, 1)) < 2) {
    return greedyFromPrepared(prepared, budget, `${L} layers is too many for the dynamic programme, so the plan is greedy`);
  }
  const dp = dpFromPrepared(prepared, budget, maxCells);
  if (dp.optimality.kind !== 'rounded') return dp;
  // Rounding loses up to layers·u bits; greedy's bound is of a different kind, so keep the better plan.
  const greedy = greedyFromPrepared(prepared, budget, 'the rounded dynamic programme did worse, so the plan is greedy');
  return better(greedy, dp, budget) ? greedy : dp;
}

/**
 * The greedy plan: start every layer at its smallest choice and repeatedly take the upgrade with
 * the largest error decrease per added bit along the lower convex hull of that layer's
 * (bits, error) points, skipping upgrades that no longer fit (bits budget) or stopping once the
 * summed error is within budget (error budget).
 *
 * Bound: along the hulls, taking upgrades in this order solves the LP relaxation of the
 * multiple-choice knapsack, whose optimum has at most one fractional layer. So for a bits budget
 * greedy's error ≤ LP ≤ OPT + Δe, where Δe is the error decrease of the first upgrade that did not
 * fit (at most the largest single upgrade error step of any layer); for an error budget greedy's
 * size ≤ OPT + Δs, where Δs is the size of the last upgrade taken. The bound is in
 * `optimality.gap`. O(n log n) in the number of upgrades, for models with thousands of layers.
 *
 * @throws RangeError like {@link planMixedPrecision}.
 */
export function greedyPlan(layers: readonly PlanLayer[], budget: PlanBudget, options: PlanOptions = {}): MixedPrecisionPlan {
  return greedyFromPrepared(prepare(layers, budget, options.allowed), budget, '');
}

/** A sensitivity-table row: a layer name, its output width, and {@link LayerSensitivity} (whose `d` is the input width). */
export interface SensitivityRow {
  /** Layer name. */
  readonly layer: string;
  /** Output width of W [out, in]. */
  readonly outFeatures: number;
  /** Input width; when given it must equal `sensitivity.d`. */
  readonly inFeatures?: number;
  /** The layer's sensitivity table entry. */
  readonly sensitivity: LayerSensitivity;
}

/**
 * Turns sensitivity-table rows into planner input: each candidate whose id is a {@link PlanChoice}
 * (`int8-channel`, `int4-g128`, `int4-channel`) gives its relative error; other candidates (2:4
 * pruning) are ignored. A null relative error (the layer's output energy is 0) becomes 0 when the
 * absolute error is also 0, and otherwise leaves the candidate unavailable, since its relative cost
 * is unbounded.
 */
export function planFromSensitivity(rows: readonly SensitivityRow[]): PlanLayer[] {
  return rows.map((row) => {
    const d = row.sensitivity.d;
    if (row.inFeatures !== undefined && row.inFeatures !== d) {
      throw new RangeError(`layer ${row.layer}: inFeatures ${row.inFeatures} differs from the sensitivity's d = ${d}`);
    }
    const errors: Partial<Record<QuantPlanChoice, number>> = {};
    for (const c of row.sensitivity.candidates) {
      if (!isPlanChoice(c.id) || c.id === 'float') continue;
      const rel = c.relativeError ?? (c.error === 0 ? 0 : null);
      if (rel !== null) errors[c.id] = rel;
    }
    return { layer: row.layer, inFeatures: d, outFeatures: row.outFeatures, errors };
  });
}

/**
 * The totals of an edited plan: `choices` maps layer names to precisions; layers it does not name
 * stay float (error 0).
 *
 * @throws RangeError when `choices` names a layer not in `layers`, or picks a precision whose error
 * the layer does not have.
 */
export function summarizePlan(layers: readonly PlanLayer[], choices: Readonly<Record<string, PlanChoice>>): PlanTotals {
  const names = new Set(layers.map((l) => l.layer));
  for (const name of Object.keys(choices)) if (!names.has(name)) throw new RangeError(`unknown layer ${name}`);
  return totals(
    layers,
    layers.map((l) => {
      const choice = Object.prototype.hasOwnProperty.call(choices, l.layer) ? choices[l.layer] : 'float';
      if (!isPlanChoice(choice)) throw new RangeError(`layer ${l.layer}: unknown precision ${String(choice)}`);
      const error = choice === 'float' ? 0 : l.errors[choice];
      if (error === undefined) throw new RangeError(`layer ${l.layer}: no error measured for ${choice}`);
      return { choice, bits: layerChoiceBits(l, choice), error };
    }),
  );
}

// ---------------------------------------------------------------------------------------------

function prepare(layers: readonly PlanLayer[], budget: PlanBudget, allowed: readonly PlanChoice[] = PLAN_CHOICES): Prepared {
  if (budget.kind === 'bits') {
    if (!Number.isFinite(budget.bitsPerWeight) || budget.bitsPerWeight < 0) throw new RangeError(`bits budget must be a finite number ≥ 0, got ${budget.bitsPerWeight}`);
  } else if (budget.kind === 'error') {
    if (!Number.isFinite(budget.maxError) || budget.maxError < 0) throw new RangeError(`error budget must be a finite number ≥ 0, got ${budget.maxError}`);
  } else {
    throw new RangeError(`unknown budget kind ${String((budget as { kind: unknown }).kind)}`);
  }
  for (const c of allowed) if (!isPlanChoice(c)) throw new RangeError(`unknown precision ${String(c)}`);
  const seen = new Set<string>();
  let weights = 0;
  const items = layers.map((l) => {
    if (seen.has(l.layer)) throw new RangeError(`duplicate layer ${l.layer}`);
    seen.add(l.layer);
    if (!Number.isInteger(l.inFeatures) || !Number.isInteger(l.outFeatures) || l.inFeatures < 1 || l.outFeatures < 1) {
      throw new RangeError(`layer ${l.layer}: invalid shape ${l.outFeatures}×${l.inFeatures}`);
    }
    weights += l.inFeatures * l.outFeatures;
    const all: Item[] = [];
    for (const choice of PLAN_CHOICES) {
      if (!allowed.includes(choice)) continue;
      const error = choice === 'float' ? 0 : l.errors[choice];
      if (error === undefined) continue;
      if (!Number.isFinite(error) || error < 0) throw new RangeError(`layer ${l.layer}: error of ${choice} must be finite and ≥ 0, got ${error}`);
      all.push({ choice, bits: layerChoiceBits(l, choice), error });
    }
    if (all.length === 0) throw new RangeError(`layer ${l.layer}: none of the allowed precisions (${allowed.join(', ')}) is available`);
    return paretoFront(all);
  });
  return { layers, items, weights };
}

/**
 * The items no other item beats in both size and error, by ascending size: a dominated item is
 * never needed by an optimal plan (swapping it for its dominator keeps the budget and the error),
 * and dropping it makes ties prefer fewer bits.
 */
function paretoFront(items: readonly Item[]): Item[] {
  const sorted = [...items].sort((a, b) => a.bits - b.bits || a.error - b.error);
  const front: Item[] = [];
  for (const it of sorted) if (front.length === 0 || it.error < front[front.length - 1].error) front.push(it);
  return front;
}

/** Capacity in bits for the budget; for an error budget every size up to all-largest. */
function capacityBits(p: Prepared, budget: PlanBudget): number {
  const largest = p.items.reduce((s, it) => s + it[it.length - 1].bits, 0);
  return budget.kind === 'bits' ? Math.min(Math.floor(budget.bitsPerWeight * p.weights), largest) : largest;
}

function dpFromPrepared(p: Prepared, budget: PlanBudget, maxCells: number): MixedPrecisionPlan {
  const L = p.items.length;
  const base = p.items.reduce((s, it) => s + it[0].bits, 0);
  const C = capacityBits(p, budget);
  if (budget.kind === 'bits' && base > C) return smallestPlan(p, budget, 'dp', { kind: 'exact', unitBits: 1 });

  // Extra bits above each layer's smallest choice: the table only has to span the spread.
  const extra = C - base;
  let unit = p.items.reduce((g, it) => it.reduce((gg, x) => gcd(gg, x.bits - it[0].bits), g), 0);
  if (unit === 0) unit = 1; // every layer has a single choice
  let cap = Math.floor(extra / unit);
  let rounded = false;
  if (L * (cap + 1) > maxCells) {
    // Largest capacity the table holds is ⌊maxCells/L⌋ − 1 units; a coarser unit rounds sizes up.
    const maxUnits = Math.floor(maxCells / L) - 1;
    unit = Math.ceil(extra / maxUnits);
    cap = Math.floor(extra / unit);
    rounded = true;
  }
  const width = p.items.map((it) => it.map((x) => Math.ceil((x.bits - it[0].bits) / unit)));

  // f(c) over c = 0..cap with a rolling pair of rows; arg[l][c] is the argmin for reconstruction.
  const stride = cap + 1;
  let prev = new Float64Array(stride);
  let cur = new Float64Array(stride);
  const arg = new Uint8Array(L * stride);
  for (let l = 0; l < L; l++) {
    const its = p.items[l], w = width[l], row = l * stride;
    for (let c = 0; c <= cap; c++) {
      // Items are by ascending width and w[0] = 0, so k = 0 always fits; strict < keeps the smaller item on ties.
      let best = prev[c] + its[0].error, bestK = 0;
      for (let k = 1; k < its.length && w[k] <= c; k++) {
        const v = prev[c - w[k]] + its[k].error;
        if (v < best) { best = v; bestK = k; }
      }
      cur[c] = best;
      arg[row + c] = bestK;
    }
    [prev, cur] = [cur, prev];
  }
  const f = prev;

  // f is non-increasing, so the smallest c at the target value is the fewest-bits plan attaining it.
  let feasible = true;
  let target: number;
  if (budget.kind === 'bits') {
    target = f[cap];
  } else if (f[cap] <= budget.maxError) {
    target = budget.maxError;
  } else {
    feasible = false;
    target = f[cap];
  }
  let cStar = 0;
  while (f[cStar] > target) cStar++;

  const chosen: Item[] = new Array<Item>(L);
  for (let l = L - 1, c = cStar; l >= 0; l--) {
    const k = arg[l * stride + c];
    chosen[l] = p.items[l][k];
    c -= width[l][k];
  }
  const t = totals(p.layers, chosen);
  const slack = L * unit;
  const optimality: PlanOptimality = rounded ? { kind: 'rounded', unitBits: unit, slackBits: slack } : { kind: 'exact', unitBits: unit };
  const slackText = `${slack} bits (${L} layers × ${unit}, ${(slack / p.weights).toPrecision(2)} bits per weight)`;
  let note = !rounded
    ? `Optimal: exact dynamic programming over the multiple-choice knapsack (sizes in units of ${unit} bits); ties prefer fewer bits.`
    : budget.kind === 'bits'
      ? `Optimal for sizes rounded up to ${unit} bits: the budget is never exceeded, and the error is at most the exact optimum for a budget ${slackText} smaller.`
      : `Optimal for sizes rounded up to ${unit} bits: the size is at most the exact minimum + ${slackText}.`;
  if (!feasible && budget.kind === 'error') note = `Infeasible: the least error any plan reaches is ${fmt(t.totalError)} (budget ${fmt(budget.maxError)}); this is that plan. ${note}`;
  return { ...t, budget, feasible, method: 'dp', optimality, note };
}

/** An upgrade of one layer from hull point `to − 1` to `to`, and its error decrease per added bit. */
interface Step {
  readonly layer: number;
  readonly to: number;
  readonly dBits: number;
  readonly dError: number;
  readonly ratio: number;
}

function greedyFromPrepared(p: Prepared, budget: PlanBudget, why: string): MixedPrecisionPlan {
  const L = p.items.length;
  const hulls = p.items.map(lowerHull);
  const at = new Array<number>(L).fill(0);
  const C = capacityBits(p, budget);
  let bits = hulls.reduce((s, h) => s + h[0].bits, 0);
  let error = hulls.reduce((s, h) => s + h[0].error, 0);
  if (budget.kind === 'bits' && bits > C) return smallestPlan(p, budget, 'greedy', { kind: 'greedy', gap: 0, gapUnit: 'error' });

  const steps: Step[] = [];
  hulls.forEach((h, l) => {
    for (let j = 1; j < h.length; j++) {
      const dBits = h[j].bits - h[j - 1].bits, dError = h[j - 1].error - h[j].error;
      steps.push({ layer: l, to: j, dBits, dError, ratio: dError / dBits });
    }
  });
  // Hull slopes decrease along a layer; the index tie-break keeps a layer's steps in order anyway.
  steps.sort((a, b) => b.ratio - a.ratio || a.layer - b.layer || a.to - b.to);

  const dead = new Array<boolean>(L).fill(false);
  let gap = 0;
  let feasible = true;
  if (budget.kind === 'bits') {
    let firstRejected: number | null = null;
    for (const s of steps) {
      if (dead[s.layer] || at[s.layer] !== s.to - 1) continue;
      if (bits + s.dBits > C) {
        // This layer's later steps depend on this one; other layers may still fit smaller upgrades.
        dead[s.layer] = true;
        firstRejected ??= s.dError;
        continue;
      }
      at[s.layer] = s.to;
      bits += s.dBits;
      error -= s.dError;
    }
    gap = firstRejected ?? 0;
  } else {
    for (const s of steps) {
      if (error <= budget.maxError) break;
      at[s.layer] = s.to;
      bits += s.dBits;
      error -= s.dError;
      gap = s.dBits;
    }
    feasible = error <= budget.maxError;
  }
  const t = totals(p.layers, hulls.map((h, l) => h[at[l]]));
  const unit = budget.kind === 'bits' ? 'error' : 'bits';
  let note = `${why ? `${why}: ` : 'Greedy: '}upgrades by error decrease per bit over each layer's convex hull; ${
    unit === 'error' ? `the error is at most the optimum + ${fmt(gap)}` : `the size is at most the minimum + ${gap} bits`
  } (the LP relaxation has at most one fractional layer).`;
  if (!feasible && budget.kind === 'error') note = `Infeasible: the least error any plan reaches is ${fmt(t.totalError)} (budget ${fmt(budget.maxError)}); this is that plan. ${note}`;
  return { ...t, budget, feasible, method: 'greedy', optimality: { kind: 'greedy', gap, gapUnit: unit }, note };
}

/**
 * The lower convex hull of a Pareto front (ascending bits, descending error): the points where the
 * error decrease per bit strictly falls. Greedy only ever stops at these, as the LP relaxation does.
 */
function lowerHull(front: readonly Item[]): Item[] {
  const hull: Item[] = [];
  for (const q of front) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2], b = hull[hull.length - 1];
      // b stays only if it lies strictly below the chord a→q (a counter-clockwise turn a, b, q).
      const cross = (b.bits - a.bits) * (q.error - a.error) - (b.error - a.error) * (q.bits - a.bits);
      if (cross > 0) break;
      hull.pop();
    }
    hull.push(q);
  }
  return hull;
}

function smallestPlan(p: Prepared, budget: PlanBudget, method: 'dp' | 'greedy', optimality: PlanOptimality): MixedPrecisionPlan {
  const t = totals(p.layers, p.items.map((it) => it[0]));
  const bpw = budget.kind === 'bits' ? budget.bitsPerWeight : NaN;
  const note = `Infeasible: even the smallest precision for every layer needs ${t.bitsPerWeight.toFixed(3)} bits per weight (budget ${bpw}); this is the smallest plan.`;
  return { ...t, budget, feasible: false, method, optimality, note };
}

/** Returns whether plan a beats plan b for the budget: feasible first, then the objective, then the other quantity. */
function better(a: MixedPrecisionPlan, b: MixedPrecisionPlan, budget: PlanBudget): boolean {
  if (a.feasible !== b.feasible) return a.feasible;
  if (budget.kind === 'bits') return a.totalError < b.totalError || (a.totalError === b.totalError && a.totalBits < b.totalBits);
  return a.totalBits < b.totalBits || (a.totalBits === b.totalBits && a.totalError < b.totalError);
}

function totals(layers: readonly PlanLayer[], chosen: readonly { readonly choice: PlanChoice; readonly bits: number; readonly error: number }[]): PlanTotals {
  let totalBits = 0, totalError = 0, weights = 0;
  const planned = layers.map((l, i): PlannedLayer => {
    const { choice, bits, error } = chosen[i];
    const n = l.inFeatures * l.outFeatures;
    totalBits += bits;
    totalError += error;
    weights += n;
    return { layer: l.layer, choice, inFeatures: l.inFeatures, outFeatures: l.outFeatures, bitsPerWeight: n > 0 ? bits / n : 0, bits, error };
  });
  return { layers: planned, totalError, totalBits, weights, bitsPerWeight: weights > 0 ? totalBits / weights : 0, floatBits: 32 * weights };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Two significant digits, as the recipe comments print errors. */
function fmt(x: number): string {
  return x === 0 ? '0' : x.toExponential(1);
}
