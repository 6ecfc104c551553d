#!/usr/bin/python3
"""Reference timing for bench/gptq.bench.ts: GPTQ (Frantar et al. 2022, Algorithm 1) in numpy.

Vectorized over rows, with the lazy batch update as one BLAS product per block of B columns, the
same quantizer conventions as the TypeScript kernel (float32 scales, round half to even,
symmetric = signed codes with zero point 0), per-channel or grouped scales (dynamic groups).
Usage: gptq_numpy.py DIR ROWS COLS BITS GROUP   (DIR holds W.f32 and H.f64, raw little-endian)
Prints one JSON line: {"ms": ..., "error": tr(dW H dW^T)}.
"""
import json
import sys
import time

import numpy as np


def params(block, bits):
    qmax = 2 ** (bits - 1) - 1
    return (np.max(np.abs(block), axis=1) / qmax).astype(np.float32).astype(np.float64)


def quant(w, scale, bits):
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    safe = np.where(scale > 0, scale, 1.0)
    q = np.clip(np.round((w / safe).astype(np.float32)), qmin, qmax)
    return np.where(scale > 0, (q * scale).astype(np.float32), 0.0).astype(np.float64)


def gptq(W, H, bits, group, B=128, percdamp=0.01):
    W = W.astype(np.float64).copy()
    H = H.copy()
    rows, cols = W.shape
    dead = np.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    H[np.diag_indices(cols)] += percdamp * np.mean(np.diag(H))
    Linv = np.linalg.inv(np.linalg.cholesky(H))
    Hinv = np.linalg.cholesky(Linv.T @ Linv).T
    Q = np.zeros_like(W)
    scale = params(W, bits) if group == 0 else None
    for i1 in range(0, cols, B):
        i2 = min(i1 + B, cols)
        W1 = W[:, i1:i2].copy()
        E = np.zeros((rows, i2 - i1))
        for j in range(i2 - i1):
            if group and (i1 + j) % group == 0:
                scale = params(W1[:, j:j + group] if j + group <= i2 - i1 else W[:, i1 + j:i1 + j + group], bits)
            q = quant(W1[:, j], scale, bits)
            Q[:, i1 + j] = q
            err = (W1[:, j] - q) / Hinv[i1 + j, i1 + j]
            W1[:, j:] -= np.outer(err, Hinv[i1 + j, i1 + j:i2])
            E[:, j] = err
        W[:, i2:] -= E @ Hinv[i1:i2, i2:]
    return Q


def main():
    folder, rows, cols, bits, group = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    W = np.fromfile(f"{folder}/W.f32", dtype="<f4").reshape(rows, cols)
    H = np.fromfile(f"{folder}/H.f64", dtype="<f8").reshape(cols, cols)
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        Q = gptq(W, H, bits, group)
        best = min(best, (time.perf_counter() - t0) * 1000)
    dW = W.astype(np.float64) - Q
    print(json.dumps({"ms": best, "error": float(np.einsum("ij,jk,ik->", dW, H, dW))}))


if __name__ == "__main__":
    main()
