"""The weight statistics of bench/stats.bench.ts, in numpy: the reference the TypeScript kernels race.

Usage: stats_numpy.py FILE.safetensors
Reads the first tensor of a single-file safetensors checkpoint through np.memmap, in blocks of
whole rows widened to float64, and computes the same statistics in the same two passes as
src/core/stats (see test/fixtures/stats/make_stats.py for the definitions): pass 1 gives
extremes, counts, moments (per-block centred sums merged with Pebay's update) and row / column
absmax; pass 2 the 3/6-sigma outlier counts, linear and log10|x| histograms, and the error of
INT8 per tensor, INT8 / INT4 per output row, INT4 group-128 symmetric and asymmetric.
Prints one JSON object with the timings and the main results.
"""
import json
import sys
import time

import numpy as np

BINS = 256
GROUP = 128
BLOCK_ELEMENTS = 1 << 21


def safe(s):
    return np.where(s > 0, s, 1.0)


def open_tensor(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    name, info = next((k, v) for k, v in header.items() if k != "__metadata__")
    start, end = info["data_offsets"]
    shape = info["shape"]
    rows = shape[0]
    cols = int(np.prod(shape[1:]))
    storage = {"F32": "<f4", "F16": "<f2", "BF16": "<u2"}[info["dtype"]]
    raw = np.memmap(path, dtype=storage, mode="r", offset=8 + n + start, shape=(rows, cols))
    return info["dtype"], raw, end - start


def blocks(dtype, raw):
    rows, cols = raw.shape
    step = max(1, BLOCK_ELEMENTS // cols)
    for r0 in range(0, rows, step):
        b = raw[r0:r0 + step]
        if dtype == "BF16":
            b = (b.astype(np.uint32) << 16).view(np.float32)
        yield r0, b.astype(np.float64)


def pass1(dtype, raw):
    rows, cols = raw.shape
    n = nan = inf = zeros = 0
    mn, mx, nz = np.inf, -np.inf, np.inf
    row_abs = np.zeros(rows)
    col_abs = np.zeros(cols)
    cnt = mean = m2 = m3 = m4 = 0.0
    for r0, b in blocks(dtype, raw):
        n += b.size
        s = b.sum()
        if not np.isfinite(s):
            fin = np.isfinite(b)
            nan += int(np.isnan(b).sum())
            inf += int(np.isinf(b).sum())
            b = np.where(fin, b, 0.0)
            xf = b[fin]
            s = xf.sum()
        else:
            xf = b.ravel()
        a = np.abs(b)
        mn = min(mn, xf.min())
        mx = max(mx, xf.max())
        zeros += int(np.count_nonzero(xf == 0))
        nz = min(nz, np.where(a > 0, a, np.inf).min())
        row_abs[r0:r0 + b.shape[0]] = a.max(axis=1)
        np.maximum(col_abs, a.max(axis=0), out=col_abs)
        k = xf.size
        c = s / k
        d = xf - c
        d2 = d * d
        s1, s2, s3, s4 = d.sum(), d2.sum(), (d2 * d).sum(), (d2 * d2).sum()
        e = s1 / k
        bm2 = s2 - k * e * e
        bm3 = s3 - 3 * e * s2 + 2 * k * e ** 3
        bm4 = s4 - 4 * e * s3 + 6 * e * e * s2 - 3 * k * e ** 4
        bmean = c + e
        if cnt == 0:
            cnt, mean, m2, m3, m4 = k, bmean, bm2, bm3, bm4
        else:
            na, nb = cnt, k
            tot = na + nb
            dl = bmean - mean
            dn = dl / tot
            t = dl * dn * na * nb
            m4 += bm4 + t * dn * dn * (na * na - na * nb + nb * nb) + 6 * dn * dn * (na * na * bm2 + nb * nb * m2) + 4 * dn * (na * bm3 - nb * m3)
            m3 += bm3 + t * dn * (na - nb) + 3 * dn * (na * bm2 - nb * m2)
            m2 += bm2 + t
            mean += dn * nb
            cnt = tot
    return dict(n=n, nan=nan, inf=inf, zeros=zeros, min=mn, max=mx, minNonzeroAbs=nz, row_abs=row_abs, col_abs=col_abs,
                finite=cnt, mean=mean, m2=m2, m3=m3, m4=m4)


def pass2(dtype, raw, p1):
    rows, cols = raw.shape
    std = np.sqrt(p1["m2"] / p1["finite"])
    mean = p1["mean"]
    absmax = max(-p1["min"], p1["max"])
    lin = np.zeros(BINS, np.int64)
    logh = np.zeros(BINS, np.int64)
    lrange = (np.log10(p1["minNonzeroAbs"]), np.log10(absmax))
    o3 = o6 = 0
    sig = et = e8 = e4 = es = ea = 0.0
    st = safe(absmax / 127)
    s8_all = safe(p1["row_abs"] / 127)
    s4_all = safe(p1["row_abs"] / 7)
    for r0, b in blocks(dtype, raw):
        fin = np.isfinite(b)
        if not fin.all():
            xf = b[fin]
            b = np.where(fin, b, 0.0)
        else:
            xf = b.ravel()
        ad = np.abs(xf - mean)
        o3 += int(np.count_nonzero(ad > 3 * std))
        o6 += int(np.count_nonzero(ad > 6 * std))
        lin += np.histogram(xf, BINS, range=(p1["min"], p1["max"]))[0]
        a = np.abs(xf)
        logh += np.histogram(np.log10(a[a > 0]), BINS, range=lrange)[0]
        sig += float((b * b).sum())
        et += float(((np.clip(np.round(b / st), -128, 127) * st - b) ** 2).sum())
        s8 = s8_all[r0:r0 + b.shape[0], None]
        s4 = s4_all[r0:r0 + b.shape[0], None]
        e8 += float(((np.clip(np.round(b / s8), -128, 127) * s8 - b) ** 2).sum())
        e4 += float(((np.clip(np.round(b / s4), -8, 7) * s4 - b) ** 2).sum())
        for g in range(0, cols, GROUP):
            blk = b[:, g:g + GROUP]
            lo = np.minimum(blk.min(axis=1), 0)[:, None]
            hi = np.maximum(blk.max(axis=1), 0)[:, None]
            ss = safe(np.maximum(-lo, hi) / 7)
            sa = safe((hi - lo) / 15)
            zp = np.clip(np.round(-lo / sa), 0, 15)
            qs = np.clip(np.round(blk / ss), -8, 7)
            qa = np.clip(np.round(blk / sa) + zp, 0, 15)
            es += float(((qs * ss - blk) ** 2).sum())
            ea += float((((qa - zp) * sa - blk) ** 2).sum())
    sqnr = {k: 10 * np.log10(sig / v) for k, v in
            [("int8-per-tensor", et), ("int8-per-channel", e8), ("int4-per-channel", e4), ("int4-group-sym", es), ("int4-group-asym", ea)]}
    return dict(std=std, o3=o3, o6=o6, lin=lin, logh=logh, sqnr=sqnr)


def main():
    dtype, raw, nbytes = open_tensor(sys.argv[1])
    t0 = time.perf_counter()
    p1 = pass1(dtype, raw)
    t1 = time.perf_counter()
    p2 = pass2(dtype, raw, p1)
    t2 = time.perf_counter()
    print(json.dumps({
        "bytes": nbytes,
        "seconds": t2 - t0,
        "pass1Seconds": t1 - t0,
        "pass2Seconds": t2 - t1,
        "mean": p1["mean"],
        "std": p2["std"],
        "kurtosis": p1["m4"] / p1["finite"] / (p1["m2"] / p1["finite"]) ** 2,
        "absmax": max(-p1["min"], p1["max"]),
        "outlierFraction3Sigma": p2["o3"] / p1["finite"],
        "histogramPeak": int(p2["lin"].max()),
        "logHistogramPeak": int(p2["logh"].max()),
        "sqnrDb": p2["sqnr"],
    }))


if __name__ == "__main__":
    main()
