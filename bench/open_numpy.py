"""Reference timings for bench/open.bench.ts: how long numpy takes to list the same files.

Usage: python3 open_numpy.py SAFETENSORS NPY REPEATS
Prints one JSON object with the median milliseconds for
  - safetensors: read the 8-byte length, json.loads the header, np.memmap every tensor;
  - npy: np.load(path, mmap_mode='r').
Run it with a Python that has numpy (Debian: python3-numpy).
"""
import json
import struct
import sys
import time

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U8": "u1", "BOOL": "?", "U16": "<u2", "U32": "<u4", "U64": "<u8"}


def list_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    arrays = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arrays[name] = np.memmap(path, dtype=DTYPES[info["dtype"]], mode="r", offset=8 + n + begin, shape=tuple(info["shape"]))
    return len(arrays)


def list_npy(path):
    return np.load(path, mmap_mode="r").shape


def median_ms(fn, path, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(path)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2]


def main():
    st, npy, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps({"safetensors": median_ms(list_safetensors, st, repeats), "npy": median_ms(list_npy, npy, repeats)}))


if __name__ == "__main__":
    main()
