import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  choiceBits, choiceBitsPerWeight, greedyPlan, layoutFor, planFromSensitivity, planMixedPrecision, PLAN_CHOICES, scaleCount,
  schemeOfChoice, summarizePlan, type LayerSensitivity, type MixedPrecisionPlan, type PlanBudget, type PlanChoice, type PlanLayer,
  type QuantPlanChoice,
} from '../../../../src/core/quant';
import { seededRandom } from '../../../../src/core/random/seededRandom';

const QUANT: readonly QuantPlanChoice[] = ['int8-channel', 'int4-g128', 'int4-channel'];

/**
 * A random instance: small shapes (so exact DP and 4^L brute force stay cheap) with in up to 300 so
 * g128 has one to three groups, errors that usually grow as bits fall but not always (so some
 * choices are dominated), and some candidates missing.
 */
function randomLayers(rand: () => number, L: number, missing = 0.15): PlanLayer[] {
  return Array.from({ length: L }, (_, i) => {
    const errors: Partial<Record<QuantPlanChoice, number>> = {};
    const scale = 10 ** (-4 + 3 * rand());
    const base = { 'int8-channel': 0.01, 'int4-g128': 0.3, 'int4-channel': 1 };
    for (const c of QUANT) if (rand() >= missing) errors[c] = scale * base[c] * (0.3 + 1.4 * rand());
    return { layer: `/blocks.${i}/MatMul`, inFeatures: 1 + Math.floor(rand() * 300), outFeatures: 1 + Math.floor(rand() * 8), errors };
  });
}

function available(l: PlanLayer): { choice: PlanChoice; bits: number; error: number }[] {
  return PLAN_CHOICES.flatMap((choice) => {
    const error = choice === 'float' ? 0 : l.errors[choice];
    return error === undefined ? [] : [{ choice, bits: choiceBits(choice, l.inFeatures, l.outFeatures), error }];
  });
}

interface Brute { bits: number; error: number; count: number }

/** Every plan, as (total bits, summed error). */
function allPlans(layers: readonly PlanLayer[]): Brute[] {
  let plans: Brute[] = [{ bits: 0, error: 0, count: 0 }];
  for (const l of layers) plans = plans.flatMap((p) => available(l).map((a) => ({ bits: p.bits + a.bits, error: p.error + a.error, count: p.count + 1 })));
  return plans;
}

const weightsOf = (layers: readonly PlanLayer[]): number => layers.reduce((s, l) => s + l.inFeatures * l.outFeatures, 0);
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));

/** Brute-force optimum under a bits capacity: least error, then fewest bits; null if none fits. */
function bruteBits(plans: readonly Brute[], capacity: number): Brute | null {
  let best: Brute | null = null;
  for (const p of plans) {
    if (p.bits > capacity) continue;
    if (!best || p.error < best.error && !close(p.error, best.error) || close(p.error, best.error) && p.bits < best.bits) best = p;
  }
  return best;
}

/** Brute-force optimum under an error budget: fewest bits, then least error. */
function bruteError(plans: readonly Brute[], maxError: number): Brute | null {
  let best: Brute | null = null;
  for (const p of plans) {
    if (p.error > maxError) continue;
    if (!best || p.bits < best.bits || p.bits === best.bits && p.error < best.error) best = p;
  }
  return best;
}

/** The plan's layers are consistent: each choice available, bits and errors as declared, totals summed. */
function checkConsistent(plan: MixedPrecisionPlan, layers: readonly PlanLayer[], allowed: readonly PlanChoice[] = PLAN_CHOICES): void {
  assert.equal(plan.layers.length, layers.length);
  let bits = 0, error = 0;
  plan.layers.forEach((p, i) => {
    const l = layers[i];
    assert.equal(p.layer, l.layer);
    assert.ok(allowed.includes(p.choice), `${p.choice} not allowed`);
    const a = available(l).find((x) => x.choice === p.choice);
    assert.ok(a, `${l.layer}: ${p.choice} is unavailable but was chosen`);
    assert.equal(p.bits, a.bits);
    assert.equal(p.error, a.error);
    bits += p.bits;
    error += p.error;
  });
  assert.equal(plan.totalBits, bits);
  assert.ok(close(plan.totalError, error));
  assert.equal(plan.floatBits, 32 * weightsOf(layers));
}

test('stored bits per weight match layoutFor/scaleCount and the closed forms', () => {
  for (const [inF, out] of [[480, 120], [128, 3], [129, 7], [1, 1], [4096, 11008]]) {
    assert.equal(choiceBitsPerWeight('float', inF, out), 32);
    assert.ok(Math.abs(choiceBitsPerWeight('int8-channel', inF, out) - (8 + 32 / inF)) < 1e-12);
    assert.ok(Math.abs(choiceBitsPerWeight('int4-g128', inF, out) - (4 + (32 * Math.ceil(inF / 128)) / inF)) < 1e-12);
    assert.ok(Math.abs(choiceBitsPerWeight('int4-channel', inF, out) - (4 + 32 / inF)) < 1e-12);
    for (const c of PLAN_CHOICES) {
      const s = schemeOfChoice(c);
      const bits = s === null ? 32 * inF * out : s.bits * inF * out + 32 * scaleCount(layoutFor(s, out, inF));
      assert.equal(choiceBits(c, inF, out), bits);
      assert.ok(Number.isInteger(choiceBits(c, inF, out)));
    }
  }
  assert.equal(schemeOfChoice('float'), null);
  assert.deepEqual(schemeOfChoice('int4-g128'), { bits: 4, symmetric: true, granularity: 'group', groupSize: 128 });
  assert.deepEqual(schemeOfChoice('int8-channel'), { bits: 8, symmetric: true, granularity: 'channel' });
});

test('DP equals brute force over all 4^L plans, bits budget, exact sizes', () => {
  const rand = seededRandom(1);
  let infeasible = 0;
  for (let trial = 0; trial < 60; trial++) {
    const layers = randomLayers(rand, 1 + (trial % 7));
    const plans = allPlans(layers);
    const N = weightsOf(layers);
    const B = 3 + 30 * rand() ** 2;
    const budget: PlanBudget = { kind: 'bits', bitsPerWeight: B };
    const plan = planMixedPrecision(layers, budget);
    checkConsistent(plan, layers);
    assert.equal(plan.method, 'dp');
    assert.equal(plan.optimality.kind, 'exact');
    const opt = bruteBits(plans, Math.floor(B * N));
    if (opt === null) {
      infeasible++;
      assert.equal(plan.feasible, false);
      assert.match(plan.note, /Infeasible/);
      assert.equal(plan.totalBits, Math.min(...plans.map((p) => p.bits)));
      continue;
    }
    assert.equal(plan.feasible, true);
    assert.ok(plan.totalBits <= B * N);
    assert.ok(plan.bitsPerWeight <= B);
    assert.ok(close(plan.totalError, opt.error), `trial ${trial}: DP ${plan.totalError} vs brute force ${opt.error}`);
    assert.equal(plan.totalBits, opt.bits, `trial ${trial}: ties must prefer fewer bits`);
    assert.match(plan.note, /^Optimal/);
  }
  assert.ok(infeasible > 0 && infeasible < 30, `${infeasible} infeasible trials`);
});

test('DP equals brute force over all 4^L plans, error budget, exact sizes', () => {
  const rand = seededRandom(2);
  for (let trial = 0; trial < 60; trial++) {
    const layers = randomLayers(rand, 1 + (trial % 7));
    const plans = allPlans(layers);
    const maxSmallest = Math.max(...plans.map((p) => p.error));
    const maxError = maxSmallest * rand() ** 2;
    const plan = planMixedPrecision(layers, { kind: 'error', maxError });
    checkConsistent(plan, layers);
    assert.equal(plan.optimality.kind, 'exact');
    const opt = bruteError(plans, maxError);
    assert.ok(opt, 'float is always allowed, so some plan meets any error budget ≥ 0');
    assert.equal(plan.feasible, true);
    assert.ok(plan.totalError <= maxError * (1 + 1e-12));
    assert.equal(plan.totalBits, opt.bits, `trial ${trial}: DP ${plan.totalBits} bits vs brute force ${opt.bits}`);
    assert.ok(close(plan.totalError, opt.error));
  }
});

test('DP equals brute force when float is not allowed (error budgets can be infeasible)', () => {
  const rand = seededRandom(3);
  const allowed: PlanChoice[] = ['int8-channel', 'int4-g128', 'int4-channel'];
  let infeasible = 0;
  for (let trial = 0; trial < 40; trial++) {
    const layers = randomLayers(rand, 1 + (trial % 6), 0);
    // Brute force over the quantized choices only.
    let quantPlans: Brute[] = [{ bits: 0, error: 0, count: 0 }];
    for (const l of layers) quantPlans = quantPlans.flatMap((p) => available(l).filter((a) => a.choice !== 'float').map((a) => ({ bits: p.bits + a.bits, error: p.error + a.error, count: p.count + 1 })));
    const minError = Math.min(...quantPlans.map((p) => p.error));
    const maxError = minError * (0.5 + 3 * rand());
    const plan = planMixedPrecision(layers, { kind: 'error', maxError }, { allowed });
    checkConsistent(plan, layers, allowed);
    const opt = bruteError(quantPlans, maxError);
    if (opt === null) {
      infeasible++;
      assert.equal(plan.feasible, false);
      assert.match(plan.note, /Infeasible/);
      assert.ok(close(plan.totalError, minError));
      continue;
    }
    assert.equal(plan.feasible, true);
    assert.equal(plan.totalBits, opt.bits);
    const B = 4 + 5 * rand();
    const pb = planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: B }, { allowed });
    const ob = bruteBits(quantPlans, Math.floor(B * weightsOf(layers)));
    assert.equal(pb.feasible, ob !== null);
    if (ob) assert.ok(close(pb.totalError, ob.error) && pb.totalBits === ob.bits);
  }
  assert.ok(infeasible > 0);
});

test('rounded sizes: never over the budget, and no worse than the exact optimum with layers·u fewer bits', () => {
  const rand = seededRandom(4);
  let rounded = 0;
  for (let trial = 0; trial < 60; trial++) {
    const L = 2 + (trial % 6);
    const layers = randomLayers(rand, L);
    const plans = allPlans(layers);
    const N = weightsOf(layers);
    const B = 4.5 + 20 * rand();
    const C = Math.floor(B * N);
    const plan = planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: B }, { maxCells: 8 * L + Math.floor(rand() * 40 * L) });
    checkConsistent(plan, layers);
    if (!plan.feasible) continue;
    assert.ok(plan.totalBits <= C, `trial ${trial}: ${plan.totalBits} > ${C}`);
    const opt = bruteBits(plans, C)!;
    assert.ok(plan.totalError >= opt.error - 1e-15);
    if (plan.optimality.kind === 'rounded') {
      rounded++;
      assert.equal(plan.optimality.slackBits, L * plan.optimality.unitBits);
      assert.match(plan.note, /rounded up to \d+ bits: the budget is never exceeded/);
      const weaker = bruteBits(plans, C - plan.optimality.slackBits);
      if (weaker) assert.ok(plan.totalError <= weaker.error * (1 + 1e-12), `trial ${trial}: ${plan.totalError} > ${weaker.error}`);
    } else if (plan.optimality.kind === 'exact') {
      // The spread above the smallest choices fitted the table after all.
      assert.ok(close(plan.totalError, opt.error));
    } else {
      assert.equal(plan.optimality.kind, 'greedy', 'when rounding, DP or greedy (whichever is better)');
    }

    const maxError = Math.max(...plans.map((p) => p.error)) * rand() ** 2;
    const pe = planMixedPrecision(layers, { kind: 'error', maxError }, { maxCells: 8 * L });
    const oe = bruteError(plans, maxError)!;
    assert.ok(pe.totalError <= maxError * (1 + 1e-12));
    assert.ok(pe.totalBits >= oe.bits);
    if (pe.optimality.kind === 'rounded') assert.ok(pe.totalBits <= oe.bits + pe.optimality.slackBits);
  }
  assert.ok(rounded >= 20, `${rounded} rounded trials`);
});

/** The largest error decrease of any single upgrade between a layer's available choices (≥ any hull step). */
function largestStep(layers: readonly PlanLayer[]): number {
  return Math.max(...layers.map((l) => {
    const a = available(l);
    return Math.max(...a.map((x) => x.error)) - Math.min(...a.map((x) => x.error));
  }));
}

test('greedy: OPT ≤ greedy ≤ OPT + its gap, and the gap ≤ the largest single upgrade step', () => {
  const rand = seededRandom(5);
  let strict = 0;
  for (let trial = 0; trial < 80; trial++) {
    const layers = randomLayers(rand, 1 + (trial % 7));
    const plans = allPlans(layers);
    const N = weightsOf(layers);
    const B = 4 + 28 * rand() ** 2;
    const g = greedyPlan(layers, { kind: 'bits', bitsPerWeight: B });
    checkConsistent(g, layers);
    assert.equal(g.method, 'greedy');
    const opt = bruteBits(plans, Math.floor(B * N));
    if (!opt) {
      assert.equal(g.feasible, false);
      continue;
    }
    assert.ok(g.feasible && g.totalBits <= B * N);
    assert.ok(g.optimality.kind === 'greedy' && g.optimality.gapUnit === 'error');
    assert.ok(g.totalError >= opt.error * (1 - 1e-12));
    assert.ok(g.totalError <= opt.error + g.optimality.gap + 1e-15, `trial ${trial}: ${g.totalError} > ${opt.error} + ${g.optimality.gap}`);
    assert.ok(g.optimality.gap <= largestStep(layers) + 1e-18);
    if (g.totalError > opt.error * (1 + 1e-9)) strict++;

    const maxError = Math.max(...plans.map((p) => p.error)) * rand() ** 2;
    const ge = greedyPlan(layers, { kind: 'error', maxError });
    const oe = bruteError(plans, maxError)!;
    assert.ok(ge.feasible && ge.totalError <= maxError * (1 + 1e-12));
    assert.ok(ge.optimality.kind === 'greedy' && ge.optimality.gapUnit === 'bits');
    assert.ok(ge.totalBits >= oe.bits && ge.totalBits <= oe.bits + ge.optimality.gap);
  }
  assert.ok(strict > 0, 'some instances should show greedy strictly worse than the DP');
});

test('infeasible bits budget: the smallest plan, flagged, with a note', () => {
  const layers = randomLayers(seededRandom(6), 5, 0);
  for (const plan of [planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: 2 }), greedyPlan(layers, { kind: 'bits', bitsPerWeight: 2 })]) {
    assert.equal(plan.feasible, false);
    // int4 per-channel is the smallest choice (int4-g128 ties with it when in ≤ 128, and wins on error).
    plan.layers.forEach((l, i) => assert.equal(l.bits, Math.min(...available(layers[i]).map((a) => a.bits))));
    assert.ok(plan.layers.every((l) => l.choice === 'int4-channel' || l.inFeatures <= 128 && l.choice === 'int4-g128'));
    assert.match(plan.note, /Infeasible: even the smallest precision for every layer needs 4\.\d+ bits per weight \(budget 2\)/);
  }
});

test('budget 32 keeps everything float with error 0; error budget 0 too', () => {
  const layers = randomLayers(seededRandom(7), 6);
  for (const plan of [planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: 32 }), planMixedPrecision(layers, { kind: 'error', maxError: 0 }), greedyPlan(layers, { kind: 'bits', bitsPerWeight: 32 })]) {
    assert.ok(plan.feasible);
    assert.ok(plan.layers.every((l) => l.choice === 'float'));
    assert.equal(plan.totalError, 0);
    assert.equal(plan.bitsPerWeight, 32);
    assert.equal(plan.totalBits, plan.floatBits);
  }
  // A generous error budget gives the smallest plan.
  const loose = planMixedPrecision(layers, { kind: 'error', maxError: 1e9 });
  assert.equal(loose.totalBits, layers.reduce((s, l) => s + Math.min(...available(l).map((a) => a.bits)), 0));
});

test('monotone: more bits never give more error, a looser error budget never more bits', () => {
  const rand = seededRandom(8);
  for (let trial = 0; trial < 3; trial++) {
    const layers = randomLayers(rand, 10);
    let last = Infinity;
    for (let B = 4; B <= 32; B += B < 10 ? 0.25 : 2) {
      const plan = planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: B });
      if (!plan.feasible) continue;
      assert.ok(plan.totalError <= last, `B = ${B}: ${plan.totalError} > ${last}`);
      last = plan.totalError;
    }
    assert.equal(last, 0);
    let lastBits = Infinity;
    for (let e = 1e-6; e < 10; e *= 1.5) {
      const plan = planMixedPrecision(layers, { kind: 'error', maxError: e });
      assert.ok(plan.totalBits <= lastBits);
      lastBits = plan.totalBits;
    }
  }
});

test('a missing candidate is never chosen, nor a disallowed one; a layer with nothing allowed throws', () => {
  const rand = seededRandom(9);
  for (let trial = 0; trial < 30; trial++) {
    const layers = randomLayers(rand, 8, 0.5);
    for (const B of [4.2, 5, 6, 9, 16]) {
      checkConsistent(planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: B }), layers);
      checkConsistent(greedyPlan(layers, { kind: 'bits', bitsPerWeight: B }), layers);
    }
    const allowed: PlanChoice[] = ['float', 'int8-channel'];
    checkConsistent(planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: 12 }, { allowed }), layers, allowed);
  }
  // Only int4-channel error is known, and it is worse than nothing: with a tight budget it is still the only choice that fits.
  const one: PlanLayer[] = [{ layer: 'a', inFeatures: 256, outFeatures: 4, errors: { 'int4-channel': 0.2 } }];
  assert.equal(planMixedPrecision(one, { kind: 'bits', bitsPerWeight: 8 }).layers[0].choice, 'int4-channel');
  assert.throws(() => planMixedPrecision(one, { kind: 'bits', bitsPerWeight: 8 }, { allowed: ['int8-channel'] }), /layer a: none of the allowed precisions \(int8-channel\) is available/);
  assert.throws(() => planMixedPrecision([...one, ...one], { kind: 'bits', bitsPerWeight: 8 }), /duplicate layer a/);
  assert.throws(() => planMixedPrecision([{ ...one[0], errors: { 'int8-channel': NaN } }], { kind: 'bits', bitsPerWeight: 8 }), RangeError);
  assert.throws(() => planMixedPrecision(one, { kind: 'bits', bitsPerWeight: -1 }), RangeError);
  assert.throws(() => planMixedPrecision([{ ...one[0], inFeatures: 0 }], { kind: 'bits', bitsPerWeight: 8 }), /invalid shape/);
});

test('a realistic model: 4 k×4 k-sized layers round, stay in budget, and beat or match greedy', () => {
  const rand = seededRandom(10);
  const shapes = [[4096, 4096], [4096, 11008], [11008, 4096], [768, 3072], [3072, 768], [480, 120]];
  const layers: PlanLayer[] = Array.from({ length: 96 }, (_, i) => {
    const [inF, out] = shapes[i % shapes.length];
    const s = 10 ** (-4 + 2 * rand());
    return { layer: `model.layers.${i}.mlp`, inFeatures: inF, outFeatures: out, errors: { 'int8-channel': s * 0.01, 'int4-g128': s * (0.2 + 0.2 * rand()), 'int4-channel': s } };
  });
  const N = weightsOf(layers);
  for (const B of [4.3, 6]) {
    const plan = planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: B });
    assert.ok(plan.feasible && plan.totalBits <= B * N);
    const g = greedyPlan(layers, { kind: 'bits', bitsPerWeight: B });
    assert.ok(plan.totalError <= g.totalError);
  }
});

test('thousands of layers fall back to greedy', () => {
  const layers = randomLayers(seededRandom(11), 5000);
  const plan = planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: 6 });
  assert.equal(plan.method, 'greedy');
  assert.match(plan.note, /5000 layers is too many/);
  assert.ok(plan.feasible && plan.bitsPerWeight <= 6);
  checkConsistent(plan, layers);
});

test('planFromSensitivity maps candidate ids and drops 2:4 pruning', () => {
  const sensitivity = (d: number, rel: (number | null)[], err: number[]): LayerSensitivity => ({
    d, traceH: 1, traceHPerDim: 1 / d, topEigenvalue: 1, eigenConverged: true, eigenIterations: 3, outputEnergy: 1,
    candidates: ['int8-channel', 'int4-g128', 'int4-channel', 'prune-2:4'].map((id, i) => ({ id, label: id, error: err[i], relativeError: rel[i], bitsPerWeight: null })),
  });
  const rows = planFromSensitivity([
    { layer: 'a', outFeatures: 120, sensitivity: sensitivity(480, [1e-4, 3e-3, 1e-2, 0.2], [1, 2, 3, 4]) },
    { layer: 'b', outFeatures: 8, inFeatures: 64, sensitivity: sensitivity(64, [null, null, null, null], [0, 0, 5, 1]) },
  ]);
  assert.deepEqual(rows, [
    { layer: 'a', inFeatures: 480, outFeatures: 120, errors: { 'int8-channel': 1e-4, 'int4-g128': 3e-3, 'int4-channel': 1e-2 } },
    { layer: 'b', inFeatures: 64, outFeatures: 8, errors: { 'int8-channel': 0, 'int4-g128': 0 } },
  ]);
  assert.throws(() => planFromSensitivity([{ layer: 'c', outFeatures: 1, inFeatures: 3, sensitivity: sensitivity(4, [0, 0, 0, 0], [0, 0, 0, 0]) }]), /inFeatures 3 differs/);
});

test('summarizePlan re-totals an edited plan; unnamed layers stay float', () => {
  const layers = randomLayers(seededRandom(12), 6, 0);
  const plan = planMixedPrecision(layers, { kind: 'bits', bitsPerWeight: 6 });
  const choices = Object.fromEntries(plan.layers.map((l) => [l.layer, l.choice]));
  const same = summarizePlan(layers, choices);
  assert.equal(same.totalBits, plan.totalBits);
  assert.equal(same.totalError, plan.totalError);
  assert.equal(same.bitsPerWeight, plan.bitsPerWeight);
  assert.deepEqual(same.layers, plan.layers);

  const edited = { ...choices, [layers[0].layer]: 'int4-channel' as const };
  delete (edited as Record<string, PlanChoice>)[layers[1].layer];
  const s = summarizePlan(layers, edited);
  assert.equal(s.layers[0].choice, 'int4-channel');
  assert.equal(s.layers[1].choice, 'float');
  assert.equal(s.layers[1].error, 0);
  assert.equal(s.totalBits, s.layers.reduce((t, l) => t + l.bits, 0));
  assert.throws(() => summarizePlan(layers, { nope: 'float' }), /unknown layer nope/);
  const partial: PlanLayer[] = [{ layer: 'x', inFeatures: 8, outFeatures: 8, errors: { 'int8-channel': 1e-3 } }];
  assert.throws(() => summarizePlan(partial, { x: 'int4-g128' }), /no error measured for int4-g128/);
});
