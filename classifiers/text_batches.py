"""Tokenise once, then cut length-sorted texts into buckets of similar length.

A batch is padded to its longest member, so one long prompt among short ones
would make every short one pay for its length; bucketing bounds that waste.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

# Texts in one bucket differ in token count by at most this ratio plus the slack;
# the slack keeps short prompts (most of them) together in one call.
BUCKET_LENGTH_RATIO = 1.25
BUCKET_LENGTH_SLACK = 8


def length_buckets(lengths: Sequence[int], max_batch: int) -> list[list[int]]:
    """Indices grouped by similar length, shortest first, each group at most ``max_batch``."""
    buckets: list[list[int]] = []
    current: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if current and (
            len(current) >= max_batch
            or lengths[index] > lengths[current[0]] * BUCKET_LENGTH_RATIO + BUCKET_LENGTH_SLACK
        ):
            buckets.append(current)
            current = []
        current.append(index)
    if current:
        buckets.append(current)
    return buckets


def tokenized_buckets(
    tokenizer: Any, texts: Sequence[str], max_length: int, max_batch: int
) -> Iterator[tuple[list[int], dict[str, np.ndarray]]]:
    """(indices into ``texts``, int64 model inputs padded to the bucket's longest)."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in encoded]
    pad_values = {"input_ids": tokenizer.pad_token_id or 0}
    lengths = [len(ids) for ids in encoded["input_ids"]]
    pad_left = getattr(tokenizer, "padding_side", "right") == "left"
    for indices in length_buckets(lengths, max_batch):
        width = max(lengths[index] for index in indices)
        batch = {}
        for name in names:
            array = np.full((len(indices), width), pad_values.get(name, 0), dtype=np.int64)
            for row, index in enumerate(indices):
                values = encoded[name][index]
                if pad_left:
                    array[row, width - len(values) :] = values
                else:
                    array[row, : len(values)] = values
            batch[name] = array
        yield indices, batch
