"""Hash index speed and memory against a numpy brute-force scan, in the same run.

    python benchmarks/hash_index.py                      # 10k, 1M and 10M; a few minutes on 2 cores
    python benchmarks/hash_index.py --sizes 10000 1000000  # quicker

Hashes are uniformly random (the hard case for multi-index hashing: real
banks cluster, which only helps). Queries are stored hashes with up to
``radius`` random bits flipped, so every query has at least one true match.
Writes benchmarks/results/hash_index.json. If faiss-cpu is installed, its
IndexBinaryMultiHash is measured beside ours at 1M (recall included).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from moderation_service.banks.index import HammingIndex, popcount_distances  # noqa: E402

SIGNALS = {"phash": (1, 10), "pdq": (4, 31)}  # words of 64 bits, default threshold
GOAL_P50_MS, GOAL_BYTES = 1.0, 2 * 2**30


def random_hashes(rng, count: int, words: int) -> np.ndarray:
    return rng.integers(0, 2**64, (count, words), dtype=np.uint64)


def near_queries(rng, hashes: np.ndarray, count: int, radius: int) -> np.ndarray:
    queries = hashes[rng.integers(0, len(hashes), count)].copy()
    bits = hashes.shape[1] * 64
    for row in queries:
        for bit in rng.choice(bits, int(rng.integers(0, radius + 1)), replace=False):
            row[bit // 64] ^= np.uint64(1 << int(bit % 64))
    return queries


def timed_ms(function, queries) -> list[float]:
    times = []
    for query in queries:
        started = time.perf_counter()
        function(query)
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values, q) -> float:
    return float(np.percentile(values, q))


def run(signal: str, size: int, rng, queries_count: int) -> dict:
    words, radius = SIGNALS[signal]
    hashes = random_hashes(rng, size, words)
    ids = np.arange(size, dtype=np.int64)
    started = time.perf_counter()
    index = HammingIndex(words)
    index.bulk_load(ids, hashes)
    build_s = time.perf_counter() - started
    queries = near_queries(rng, hashes, queries_count, radius)
    index.search(queries[0], radius)  # warm the mask tables
    index_ms = timed_ms(lambda q: index.search(q, radius), queries)
    brute = lambda q: np.flatnonzero(popcount_distances(hashes, q) <= radius)  # noqa: E731
    brute_ms = timed_ms(brute, queries[: max(5, queries_count // 20)])
    # Exactness on a sample, against the brute force of this run.
    for query in queries[:10]:
        assert sorted(i for i, _ in index.search(query, radius)) == sorted(brute(query).tolist())
    # Incremental adds land in the delta; the query cost with a full delta is what requests see.
    extra = random_hashes(rng, 20_000, words)
    started = time.perf_counter()
    for offset, row in enumerate(extra):
        index.add(size + offset, row)
    add_us = (time.perf_counter() - started) / len(extra) * 1e6
    with_delta_ms = timed_ms(lambda q: index.search(q, radius), queries[:100])
    result = {
        "signal": signal, "size": size, "radius": radius, "build_s": round(build_s, 2),
        "index_bytes": index.nbytes(), "bytes_per_hash": round(index.nbytes() / size, 1),
        "query_p50_ms": round(percentile(index_ms, 50), 3), "query_p99_ms": round(percentile(index_ms, 99), 3),
        "brute_p50_ms": round(percentile(brute_ms, 50), 3),
        "speedup_p50": round(percentile(brute_ms, 50) / percentile(index_ms, 50), 1),
        "add_us": round(add_us, 1), "query_p50_ms_with_20k_delta": round(percentile(with_delta_ms, 50), 3),
    }
    if signal == "phash" and size == 1_000_000:
        result["faiss"] = faiss_multihash(hashes, queries, radius, brute)
    return result


def faiss_multihash(hashes, queries, radius, brute) -> dict | str:
    try:
        import faiss
    except ImportError:
        return "faiss-cpu not installed"
    codes = hashes.view(np.uint8).reshape(len(hashes), -1)
    started = time.perf_counter()
    index = faiss.IndexBinaryMultiHash(64, 3, 21)
    index.nflip = -(-(radius + 1) // 3) - 1  # per-chunk flips such that 3 x (nflip + 1) > radius: exact
    index.add(codes)
    build_s = time.perf_counter() - started
    query_codes = queries.view(np.uint8).reshape(len(queries), -1)
    times, found, expected = [], 0, 0
    for row, query in zip(query_codes, queries):
        started = time.perf_counter()
        _lims, _distances, labels = index.range_search(row[None, :], radius + 1)  # faiss' radius is strict
        times.append((time.perf_counter() - started) * 1000)
        truth = set(brute(query).tolist())
        found += len(truth & set(labels.tolist()))
        expected += len(truth)
    return {"build_s": round(build_s, 2), "query_p50_ms": round(percentile(times, 50), 3),
            "recall_vs_brute_force": round(found / expected, 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000, 10_000_000])
    parser.add_argument("--signals", nargs="+", default=list(SIGNALS))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hash_index.json")
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    results = []
    print(f"{'signal':6} {'size':>10} {'r':>3} {'build s':>8} {'MiB':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'brute p50':>10} {'ratio':>7} {'add us':>7} {'p50+delta':>10}")
    for signal in args.signals:
        for size in args.sizes:
            result = run(signal, size, rng, args.queries)
            results.append(result)
            print(f"{signal:6} {size:>10} {result['radius']:>3} {result['build_s']:>8} "
                  f"{result['index_bytes'] / 2**20:>8.1f} {result['query_p50_ms']:>8} {result['query_p99_ms']:>8} "
                  f"{result['brute_p50_ms']:>10} {result['speedup_p50']:>6}x {result['add_us']:>7} "
                  f"{result['query_p50_ms_with_20k_delta']:>10}", flush=True)
            if "faiss" in result:
                print(f"       faiss IndexBinaryMultiHash at 1M: {result['faiss']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"goal": {"p50_ms": GOAL_P50_MS, "bytes": GOAL_BYTES}, "results": results},
                                   indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
