"""Nothing raw at rest: personal data in what clients and people write is redacted before it is stored.

The prompt has its own path (``prompt_redacted``). This module covers the
rest: policy reason values (a ``matches`` rule's matched text), request
``metadata``, appeal reasons, reviewer notes and audit details. String leaves
of any JSON value go through the PII classifier in force and come back with
``<ENTITY_TYPE>`` in place of each value found; numbers that are long digit
runs (a card number sent as an integer) are redacted too.

``external_id`` is an identifier the client looks items up by, so it cannot be
rewritten: a value that holds an e-mail address, phone, card, IBAN, SSN or IP
address is refused (``422 external_id_personal_data``).

The classifier is the service's (``use``); before one is set, or without a PII
classifier, a conservative fallback redacts anything shaped like an e-mail
address or a run of seven or more digits.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any

from moderation_service.errors import ApiError

# Pattern entities only: NER would refuse ids like "jane-2024" as a PERSON.
EXTERNAL_ID_REFUSED = frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"})
_FALLBACK = re.compile(r"\S+@\S+|\+?\d(?:[\d\s().\-/]{5,}\d)")
_LONG_NUMBER = 1_000_000  # integers with 7+ digits may be phone or card numbers
# Enum-like strings (entity types, rule ids, queue names) hold no personal data: no call for them.
_PLAIN_TOKEN = re.compile(r"[A-Z_]{1,64}|[a-z_.\-]{1,64}")
log = logging.getLogger(__name__)
_lock = threading.Lock()
_classifier: Any = None


def use(classifier: Any) -> None:
    """The PII classifier to redact with (``classify_batch(list[str]) -> [PiiSignal]``); None: fallback."""
    global _classifier
    with _lock:
        _classifier = classifier


def redact_texts(texts: list[str]) -> list[str]:
    """Each text with its personal data replaced (one batched call)."""
    classifier = _classifier
    if not texts:
        return []
    if classifier is not None:
        try:
            return [signal.redacted_text for signal in classifier.classify_batch(texts)]
        except Exception as exc:  # a broken classifier must not fail the request, nor store raw text
            log.warning("PII classifier failed while redacting stored text (%s); using the fallback",
                        type(exc).__name__)
    return [_FALLBACK.sub("<PII>", text) for text in texts]


def redact_text(text: str | None) -> str | None:
    return None if text is None else redact_texts([text])[0]


def redact_json(value: Any, known: list[tuple[str, str]] = ()) -> Any:
    """A copy of a JSON value with every string leaf redacted and long integers masked; keys kept.

    ``known``: (entity type, value) already detected in the text these strings came
    from; a leaf sharing four or more letters or digits in a row with one of them is
    replaced by ``<TYPE>`` whole (a regex rule's match may be a fragment, "5500.0000",
    that no recognizer would flag on its own)."""
    leaves: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, str):
            leaves.append(node)
        elif isinstance(node, dict):
            for child in node.values():
                collect(child)
        elif isinstance(node, (list, tuple)):
            for child in node:
                collect(child)

    collect(value)
    to_redact = sorted({leaf for leaf in leaves if not _PLAIN_TOKEN.fullmatch(leaf)})
    redacted = dict(zip(to_redact, redact_texts(to_redact)))
    for leaf in to_redact:
        if kind := _shares_a_run(leaf, known):
            redacted[leaf] = f"<{kind}>"

    def rebuild(node: Any) -> Any:
        if isinstance(node, str):
            return redacted.get(node, node)
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int) and abs(node) >= _LONG_NUMBER:
            return "<NUMBER>"
        if isinstance(node, dict):
            return {key: rebuild(child) for key, child in node.items()}
        if isinstance(node, (list, tuple)):
            return [rebuild(child) for child in node]
        return node

    return rebuild(value)


def _shares_a_run(text: str, known) -> str | None:
    from classifiers.pii_normalization import normalize_for_pii

    runs = set(re.findall(r"[^\W_]{4,}", "".join(ch for ch in normalize_for_pii(text).text if ch.isalnum() or ch == " ")))
    if not runs:
        return None
    for kind, value in known:
        compact = "".join(ch for ch in normalize_for_pii(value).text if ch.isalnum())
        if any(run[i:i + 4] in compact for run in runs for i in range(len(run) - 3)):
            return kind
    return None


def check_external_id(external_id: str | None) -> None:
    """Raises ``ApiError(422, external_id_personal_data)`` when the id holds personal data."""
    if not external_id:
        return
    classifier = _classifier
    try:
        found = classifier is not None and any(
            e.type in EXTERNAL_ID_REFUSED for e in classifier.classify_batch([external_id])[0].entities)
    except Exception as exc:
        log.warning("PII classifier failed on an external_id (%s); using the fallback", type(exc).__name__)
        classifier = None
    if classifier is None:
        found = bool(_FALLBACK.search(external_id))
    if found:
        raise ApiError(422, "external_id_personal_data",
                       "external_id looks like personal data (an e-mail, phone, card, IBAN, SSN or IP address); "
                       "send your own opaque id instead")
