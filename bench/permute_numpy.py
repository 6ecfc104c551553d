"""Reference for bench/permute.bench.ts: a straightforward numpy implementation of the
channel-swap search for N:M channel permutations (Pool & Yu, NeurIPS 2021).

For every pair of columns in different stripes, the N:M kept magnitude of the two stripes after
swapping them is computed with numpy (vectorized over rows); the swap is applied when it
improves the total, and the sweeps repeat until a full sweep finds nothing. Efficacy is measured
as in the paper: (kept - default N:M kept) / (unstructured kept - default N:M kept).

Usage: permute_numpy.py DIR N M, where DIR holds NAME.f32 files (float32, row-major) and
DIR/matrices.json lists [{"name", "rows", "cols", "repeat"}]. Prints one JSON object per matrix,
with the best process CPU time of `repeat` runs.
"""
import json
import os
import sys
import time

import numpy as np


def kept(A, cols, n):
    """Magnitude an N:M mask keeps in one stripe: per row, the n largest of the stripe's columns."""
    return np.sort(A[:, cols], axis=1)[:, -n:].sum() if n > 0 else 0.0


def nm_kept(A, perm, n, m):
    s = np.sort(A[:, perm].reshape(A.shape[0], -1, m), axis=2)
    return float(s[:, :, m - n:].sum())


def unstructured_kept(A, n, m):
    flat = np.sort(A.ravel())
    pruned = int(round((1 - n / m) * flat.size))
    return float(flat[pruned:].sum())


def channel_swap_search(A, n, m):
    cols = A.shape[1]
    perm = np.arange(cols)
    stripe_kept = np.array([kept(A, perm[s * m:(s + 1) * m], n) for s in range(cols // m)])
    tol = 1e-12 * stripe_kept.sum()
    improved = True
    while improved:
        improved = False
        for i in range(cols):
            si = i // m
            for j in range((si + 1) * m, cols):
                sj = j // m
                a = perm[si * m:(si + 1) * m].copy()
                a[i - si * m] = perm[j]
                b = perm[sj * m:(sj + 1) * m].copy()
                b[j - sj * m] = perm[i]
                ka, kb = kept(A, a, n), kept(A, b, n)
                if ka + kb - stripe_kept[si] - stripe_kept[sj] > tol:
                    perm[i], perm[j] = perm[j], perm[i]
                    stripe_kept[si], stripe_kept[sj] = ka, kb
                    improved = True
    return perm


def main():
    folder, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(os.path.join(folder, "matrices.json")) as f:
        matrices = json.load(f)
    for spec in matrices:
        W = np.fromfile(os.path.join(folder, spec["name"] + ".f32"), dtype=np.float32)
        A = np.abs(W.reshape(spec["rows"], spec["cols"]).astype(np.float64))
        ms = float("inf")
        for _ in range(min(spec.get("repeat", 1), 2)):
            t0 = time.process_time()
            perm = channel_swap_search(A, n, m)
            ms = min(ms, (time.process_time() - t0) * 1000)
        before = nm_kept(A, np.arange(A.shape[1]), n, m)
        after = nm_kept(A, perm, n, m)
        unstructured = unstructured_kept(A, n, m)
        gap = unstructured - before
        print(json.dumps({
            "name": spec["name"],
            "ms": ms,
            "keptBefore": before,
            "keptAfter": after,
            "efficacy": (after - before) / gap if gap > 0 else 0.0,
        }), flush=True)


if __name__ == "__main__":
    main()
