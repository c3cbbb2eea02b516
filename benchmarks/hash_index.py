"""Hash index speed and memory against a numpy brute-force scan, in the same run.

    python benchmarks/hash_index.py --quick              # smoke run: 10k, a few seconds
    python benchmarks/hash_index.py                      # 10k and 1M
    python benchmarks/hash_index.py --long               # and 10M (long: minutes, ~4 GiB for PDQ)
    python benchmarks/hash_index.py --sizes 10000 1000000 --parts earlier

Two parts. ``index``: the HammingIndex alone. ``earlier``: earlier items as the
built-in ``earlier-items`` bank in the banks' matcher (one index per signal
type holds bank entries and items): near-duplicate search latency at the
built-in bank's thresholds, the bank lookup's latency with and without the
items sharing its index (side by side), and the brute-force scan the old
per-process near-duplicate index did.

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
from moderation_service.banks.matcher import BankMatcher  # noqa: E402
from moderation_service.banks.signals.registry import SIGNAL_TYPES  # noqa: E402

SIGNALS = {"phash": (1, 10), "pdq": (4, 31)}  # words of 64 bits, default threshold
NEAR_DUPLICATE_RADIUS = {"phash": 6, "pdq": 31}  # the earlier-items bank's default thresholds
BANK_ENTRIES = 100_000  # a block bank beside the items
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


def hex_of(words: np.ndarray) -> str:
    return "".join(f"{int(w):016x}" for w in words)


def matcher_with(signal: str, bank_hashes: np.ndarray, item_hashes: np.ndarray | None) -> BankMatcher:
    details = lambda ids: {i: (None, "") for i in ids}  # noqa: E731  (labels live in the database)
    matcher = BankMatcher(details)
    matcher.set_bank(1, "known-bad", "block", None)
    words = SIGNALS[signal][0]
    empty = {name: np.empty(0, np.int64) for name in SIGNAL_TYPES}
    hashes = {name: np.empty((0, kind.words()), np.uint64) for name, kind in SIGNAL_TYPES.items()}
    ids, banks = dict(empty), {name: np.empty(0, np.int32) for name in SIGNAL_TYPES}
    ids[signal] = np.arange(1, len(bank_hashes) + 1, dtype=np.int64)
    banks[signal] = np.ones(len(bank_hashes), np.int32)
    hashes[signal] = bank_hashes.reshape(-1, words)
    items = {signal: np.arange(1, len(item_hashes) + 1, dtype=np.int64)} if item_hashes is not None else None
    matcher.load(ids, banks, hashes, set(), items, {signal: item_hashes} if item_hashes is not None else None)
    return matcher


def run_earlier(signal: str, size: int, rng, queries_count: int) -> dict:
    """Earlier items on the unified index: near-duplicate search and bank lookups, side by side."""
    words, bank_radius = SIGNALS[signal]
    radius = NEAR_DUPLICATE_RADIUS[signal]
    items = random_hashes(rng, size, words)
    bank = random_hashes(rng, BANK_ENTRIES, words)
    started = time.perf_counter()
    unified = matcher_with(signal, bank, items)
    build_s = time.perf_counter() - started
    banks_only = matcher_with(signal, bank, None)
    item_queries = [hex_of(q) for q in near_queries(rng, items, queries_count, radius)]
    bank_queries = [hex_of(q) for q in near_queries(rng, bank, queries_count, bank_radius)]
    unified.search_items(signal, item_queries[0])
    near_ms = timed_ms(lambda q: unified.search_items(signal, q, radius), item_queries)
    lookup_ms = timed_ms(lambda q: unified.lookup({signal: [q]}), bank_queries)
    lookup_alone_ms = timed_ms(lambda q: banks_only.lookup({signal: [q]}), bank_queries)
    brute = lambda q: np.flatnonzero(  # noqa: E731  (the old per-process near-duplicate index)
        popcount_distances(items, SIGNAL_TYPES[signal].to_words(q)) <= radius)
    brute_ms = timed_ms(brute, item_queries[: max(5, queries_count // 20)])
    for query in item_queries[:10]:  # exact, against the brute force of this run
        assert sorted(row for row, _ in unified.search_items(signal, query, radius)) == sorted(
            (brute(query) + 1).tolist())
    return {
        "part": "earlier", "signal": signal, "size": size, "radius": radius, "bank_entries": BANK_ENTRIES,
        "build_s": round(build_s, 2), "index_bytes": unified.indexes[signal].nbytes(),
        "near_duplicate_p50_ms": round(percentile(near_ms, 50), 3),
        "near_duplicate_p99_ms": round(percentile(near_ms, 99), 3),
        "brute_p50_ms": round(percentile(brute_ms, 50), 3),
        "speedup_p50": round(percentile(brute_ms, 50) / percentile(near_ms, 50), 1),
        "bank_lookup_p50_ms": round(percentile(lookup_ms, 50), 3),
        "bank_lookup_p50_ms_without_items": round(percentile(lookup_alone_ms, 50), 3),
        "bank_lookup_ratio": round(percentile(lookup_ms, 50) / percentile(lookup_alone_ms, 50), 2),
    }


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
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="default 10k and 1M; --long adds 10M; --quick is 10k only")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10k hashes, 50 queries")
    parser.add_argument("--long", action="store_true", help="include 10 million (minutes; ~4 GiB for PDQ)")
    parser.add_argument("--parts", nargs="+", default=["index", "earlier"], choices=["index", "earlier"])
    parser.add_argument("--signals", nargs="+", default=list(SIGNALS))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "hash_index.json")
    args = parser.parse_args()
    if args.sizes is None:
        args.sizes = [10_000] if args.quick else [10_000, 1_000_000] + ([10_000_000] if args.long else [])
    if args.quick:
        args.queries = min(args.queries, 50)
    rng = np.random.default_rng(11)
    results = []
    if "earlier" in args.parts:
        print(f"{'earlier items':13} {'size':>10} {'r':>3} {'build s':>8} {'MiB':>8} {'near p50':>9} "
              f"{'near p99':>9} {'brute p50':>10} {'ratio':>7} {'bank p50':>9} {'bank alone':>10} {'ratio':>6}")
        for signal in args.signals:
            for size in args.sizes:
                result = run_earlier(signal, size, rng, args.queries)
                results.append(result)
                print(f"{signal:13} {size:>10} {result['radius']:>3} {result['build_s']:>8} "
                      f"{result['index_bytes'] / 2**20:>8.1f} {result['near_duplicate_p50_ms']:>9} "
                      f"{result['near_duplicate_p99_ms']:>9} {result['brute_p50_ms']:>10} "
                      f"{result['speedup_p50']:>6}x {result['bank_lookup_p50_ms']:>9} "
                      f"{result['bank_lookup_p50_ms_without_items']:>10} {result['bank_lookup_ratio']:>5}x",
                      flush=True)
    if "index" not in args.parts:
        args.signals = []
    else:
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
