"""Orchestrates one moderation: decode, classify concurrently, decide, store."""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from classifiers.base import Classifier, DecodedImage, Modality, Signal
from classifiers.image_hash import ImageHashSignal, NearDuplicate
from moderation_service.batching import DynamicBatcher
from moderation_service.db.tables import ModerationItem, ReviewQueueEntry
from moderation_service.errors import ApiError
from moderation_service.image_store import ImageStore
from moderation_service.decode_pool import DecodePool
from moderation_service.fair_executor import FairExecutor
from moderation_service.image_views import bank_matches, view_hashes
from moderation_service.images import ImageRejected, decode_image
from moderation_service.metrics import ServiceMetrics
from moderation_service.decision_cause import annotate, image_cause_views
from moderation_service.near_duplicates import EarlierItems, item_hash_rows
from moderation_service.active_policies import ActivePolicies
from moderation_service.policy import evaluate
from moderation_service.api.strict_json import check_text
from moderation_service import pii_scrubbing
from classifiers.text_normalization import normalize_for_classification
from moderation_service.repository import ModerationRepository
from moderation_service.settings import Settings

if TYPE_CHECKING:
    from moderation_service.banks.runtime import Banks
    from moderation_service.candidates.roster import Roster
    from moderation_service.candidates.shadow import ShadowScorer
    from moderation_service.quality.sampling import QualitySampler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModerationInput:
    prompt: str | None
    image: bytes | None
    surface: str = "default"
    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    client: str = "anonymous"
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        """What a retry must repeat for its Idempotency-Key to be honoured."""
        digest = hashlib.sha256()
        for part in (self.surface, self.external_id or "", self.prompt or "",
                     json.dumps(self.metadata, sort_keys=True, default=str)):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(hashlib.sha256(self.image or b"").digest())
        return digest.hexdigest()


@dataclass(frozen=True)
class Moderated:
    item: ModerationItem
    review: ReviewQueueEntry | None
    replayed: bool = False  # an earlier request with the same Idempotency-Key decided this
    store_ms: float | None = None  # the commit's own time: not in the stored body, sent as Server-Timing


class ModerationService:
    def __init__(
        self,
        settings: Settings,
        classifiers: dict[str, Classifier],
        policies: ActivePolicies,
        repository: ModerationRepository,
        image_store: ImageStore,
        earlier: EarlierItems,
        banks: "Banks | None" = None,
        quality: "QualitySampler | None" = None,
    ) -> None:
        self.settings = settings
        self.classifiers = classifiers
        self.policies = policies
        self.repository = repository
        self.image_store = image_store
        self.earlier = earlier
        self.banks = banks
        self.modalities = {name: clf.modality.value for name, clf in classifiers.items()}
        self.quality = quality
        self.roster: "Roster | None" = None  # candidate models (moderation_service/candidates)
        self.shadow: "ShadowScorer | None" = None
        self.metrics: ServiceMetrics | None = None
        self._executor = ThreadPoolExecutor(settings.classifier_workers, thread_name_prefix="classifier")
        # Decoding has threads of its own, so costly uploads queue behind each other,
        # never in front of other requests' storing, hashing and lookups; clients take turns.
        self._decoder = FairExecutor(settings.decode_workers, "decode")
        self._decode_pool = DecodePool(settings.decode_workers, settings.image_limits,
                                       settings.decode_timeout_ms / 1000) if settings.decode_isolation == "process" else None
        pii_scrubbing.use(classifiers.get("pii"))  # redacts what else is stored (reasons, metadata, notes)
        self.batchers = {
            name: DynamicBatcher(classifier, settings.batch_max_size, settings.batch_max_wait_ms, self._executor)
            for name, classifier in classifiers.items()
            if classifier.batchable
        } if settings.batching else {}
        self._retired: list[DynamicBatcher] = []

    def swap_classifier(self, name: str, classifier: Classifier) -> None:
        """Serve signal ``name`` with ``classifier`` from the next request on (a promoted model).
        Requests already running finish on the old one; its batcher is closed with the service."""
        if name in self.batchers:
            batcher = DynamicBatcher(classifier, self.settings.batch_max_size, self.settings.batch_max_wait_ms,
                                     self._executor)
            self._retired.append(self.batchers[name])
            self.batchers = {**self.batchers, name: batcher}
        self.classifiers = {**self.classifiers, name: classifier}

    def close(self) -> None:
        if self.roster is not None:
            self.roster.stop()
        if self.shadow is not None:
            self.shadow.stop()
        for batcher in [*self.batchers.values(), *self._retired]:
            batcher.close()
        self._executor.shutdown(wait=True)
        self._decoder.shutdown()
        if self._decode_pool is not None:
            self._decode_pool.close()

    async def moderate(self, request: ModerationInput) -> Moderated:
        """Decides and stores one item; with an Idempotency-Key, a retry gets the first result."""
        prompt = self._checked_prompt(request.prompt)
        if prompt is None and request.image is None:
            raise ApiError(422, "empty_request", "send a non-empty prompt, an image, or both")
        if request.image is None and not normalize_for_classification(prompt, name_emoji=False):
            raise ApiError(422, "empty_request", "the prompt has no text to moderate once control, invisible and "
                           "markup characters are removed; send a non-empty prompt, an image, or both")
        if request.external_id:
            await self._run(pii_scrubbing.check_external_id, request.external_id)
        fingerprint = request.fingerprint() if request.idempotency_key else None
        if fingerprint and (earlier := await self._run(self._earlier_result, request, fingerprint)):
            return earlier
        timings: dict[str, float] = {}
        image = None
        if request.image is not None:
            started = time.perf_counter()
            image = await self._decoded(request.image, request.client)
            timings["decode"] = _elapsed_ms(started)

        signals, failed = await self._classify(prompt, image, timings, request.client)
        if isinstance(signals.get("image_hash"), ImageHashSignal):
            signals["image_hash"] = await self._run(self._with_near_duplicates, signals["image_hash"],
                                                    signals.get("pdq"))

        plain_signals = {name: signal.model_dump(mode="json") for name, signal in signals.items()}
        started = time.perf_counter()
        bank_matches = await self._run(self._bank_matches, plain_signals, image, prompt)  # may read labels
        if bank_matches is not None:
            timings["banks"] = _elapsed_ms(started)
        started = time.perf_counter()
        facts = {**plain_signals, **prompt_facts(prompt)}
        if bank_matches is not None:
            facts["banks"] = bank_matches
        policy_set = self.policies.current  # one snapshot for the whole request
        live = policy_set.for_surface(request.surface)
        decision = evaluate(live, facts, failed)
        shadow_policy = policy_set.shadow_of(live)
        shadow = evaluate(shadow_policy, facts, failed) if shadow_policy else None
        timings["policy"] = _elapsed_ms(started)

        item = self._record(request, prompt, image, plain_signals, failed, decision, timings)
        # Which signals, and so which modality, each fired rule read: near-duplicates inherit only the image's part.
        item.reasons = annotate(item.reasons, facts, self.modalities)
        if bank_matches and (bank_matches["matches"] or bank_matches["quarantined"]):
            item.signals = {**item.signals, "banks": bank_matches}  # only when a bank matched
        if shadow is not None:
            item.shadow_decision = shadow.action
            item.shadow_policy_name = shadow.policy_name
            item.shadow_policy_sha256 = shadow.policy_sha256
            item.shadow_reasons = [reason.as_dict() for reason in shadow.reasons]
        review = None
        if decision.action == "review":
            review = ReviewQueueEntry(item_id=item.id, queue=decision.review_queue or "default",
                                      priority=decision.review_priority or 0, status="pending",
                                      enqueued_at=item.created_at)
        queued = review or await self._quality_sample(decision.action, live.spec, facts, item)
        item.client = request.client
        item.idempotency_key = request.idempotency_key
        item.request_sha256 = fingerprint
        causes = image_cause_views(item.reasons, facts)  # the views whose hashes pass the image's decision on
        hash_rows = item_hash_rows(item.id, item.created_at, plain_signals, causes)
        started = time.perf_counter()
        try:
            await self._run(self._store, item, queued, request.image, image, hash_rows, prompt)
        except IntegrityError:
            # A concurrent retry with the same key committed first: answer with its result.
            if fingerprint and (earlier := await self._run(self._earlier_result, request, fingerprint)):
                return earlier
            raise
        # The response shows the stored timings, so an idempotent replay returns the same
        # body; the commit's own time goes to the metrics and the Server-Timing header.
        stored_ms = {**timings, "store": _elapsed_ms(started)}
        self.earlier.add(hash_rows)
        if self.shadow is not None and self.shadow.active:  # after the commit: off the response's path
            self.shadow.submit(item.id, prompt, image)
        if self.metrics is not None:
            self.metrics.record_moderation(item.decision, item.surface, stored_ms, list(failed))
            for match in (bank_matches or {}).get("matches", []):
                self.metrics.bank_matches.labels(bank=match["bank"]).inc()
        return Moderated(item, review, store_ms=stored_ms["store"])

    async def _quality_sample(self, action: str, policy, facts, item: ModerationItem) -> ReviewQueueEntry | None:
        """A blind-review entry when the item is drawn for the quality sample (never shown to the client)."""
        sample = self.quality.draw(action, policy, facts) if self.quality is not None else None
        if sample is None or not await self._run(self.quality.within_budget, sample):
            return None
        return ReviewQueueEntry(item_id=item.id, queue=sample.queue, priority=0, status="pending",
                                enqueued_at=item.created_at, sampling=sample.kind,
                                sampling_probability=sample.probability)

    def _earlier_result(self, request: ModerationInput, fingerprint: str) -> Moderated | None:
        earlier = self.repository.find_by_idempotency_key(request.client, request.idempotency_key)
        if earlier is None:
            return None
        if earlier.request_sha256 != fingerprint:
            raise ApiError(409, "idempotency_key_reused",
                           "this Idempotency-Key was used for a different request; use a new key")
        return Moderated(earlier, self.repository.review_entry(earlier.id), replayed=True)

    def _checked_prompt(self, prompt: str | None) -> str | None:
        if prompt is None or not prompt.strip():
            return None
        check_text(prompt, "the prompt", allow_nul=True)  # a lone surrogate breaks tokenizers and spaCy: 422
        # A NUL is dropped, as normalisation drops every control character; PostgreSQL cannot store one.
        prompt = prompt.replace("\x00", "")
        if len(prompt) > self.settings.max_prompt_chars:
            raise ApiError(422, "prompt_too_long",
                           f"the prompt has {len(prompt)} characters; the limit is {self.settings.max_prompt_chars}")
        return prompt

    async def _decoded(self, data: bytes, client: str | None = None) -> DecodedImage:
        """Past ``decode_timeout_ms`` (queueing included) the answer is 422 image_too_costly. A decode
        not yet started is cancelled; one running finishes its work, which the limits bound.
        Clients' decodes are served in turn (``FairExecutor``)."""
        work = asyncio.wrap_future(self._decoder.submit(client, self._decode, data))
        try:
            return await asyncio.wait_for(work, self.settings.decode_timeout_ms / 1000)
        except TimeoutError:
            raise ApiError(422, "image_too_costly",
                           f"the image was not decoded within {self.settings.decode_timeout_ms} ms") from None

    def _decode(self, data: bytes) -> DecodedImage:
        try:
            if self._decode_pool is not None:
                return self._decode_pool.decode(data)
            return decode_image(data, self.settings.image_limits)
        except ImageRejected as exc:
            raise ApiError(exc.status, exc.code, exc.message) from exc

    async def _classify(self, prompt: str | None, image: DecodedImage | None, timings: dict[str, float],
                        client: str | None = None):
        inputs = {Modality.TEXT: prompt, Modality.IMAGE: image}
        jobs = {name: clf for name, clf in self.classifiers.items() if inputs[clf.modality] is not None}

        async def timed(name: str, classifier: Classifier) -> Signal:
            started = time.perf_counter()
            if name in self.batchers:
                work = self.batchers[name].classify(inputs[classifier.modality], client)
            else:
                work = self._run(classifier.classify, inputs[classifier.modality])
            try:
                # Past the deadline the request goes on without this signal; on_error decides.
                return await asyncio.wait_for(work, self.settings.classifier_timeout_ms / 1000)
            finally:
                timings[name] = _elapsed_ms(started)

        results = await asyncio.gather(*(timed(n, c) for n, c in jobs.items()), return_exceptions=True)
        signals: dict[str, Signal] = {}
        failed: dict[str, str] = {}
        for name, result in zip(jobs, results):
            if isinstance(result, TimeoutError):
                log.warning("classifier %s missed its %d ms deadline", name, self.settings.classifier_timeout_ms)
                failed[name] = "timeout"
            elif isinstance(result, Exception):
                log.error("classifier %s failed: %s", name, type(result).__name__, exc_info=result)
                failed[name] = type(result).__name__
            else:
                signals[name] = result
        return signals, failed

    def _with_near_duplicates(self, signal: ImageHashSignal, pdq: Signal | None) -> ImageHashSignal:
        """Earlier items near any view's pHash (none below the quality floor), then (for items not found
        so) any view's PDQ hash; each at its nearest view, with the decision in force and the decision
        its image alone carries (``image_decision``). The index takes one hash at a time."""
        limit = self.settings.near_duplicate_limit
        phashes = [(v.frame, v.background, v.phash) for v in signal.views] or [(0, None, signal.phash)]
        pdq_views = getattr(pdq, "views", None) or [(0, None, getattr(pdq, "hash", None))]
        pdqs = [(v.frame, v.background, v.hash) if not isinstance(v, tuple) else v for v in pdq_views]
        ranked: list[tuple] = []
        for signal_type, views in (("phash", phashes), ("pdq", pdqs)):
            if len(ranked) >= limit:
                break
            known = {match.item_id for match, *_ in ranked}
            nearest: dict[str, tuple] = {}
            for frame, background, hash_hex in views:
                if not hash_hex:
                    continue
                for match in self.earlier.search(signal_type, hash_hex, limit):
                    if match.item_id not in known and (match.item_id not in nearest
                                                       or match.distance < nearest[match.item_id][0].distance):
                        nearest[match.item_id] = (match, frame, background)
            ranked += sorted(nearest.values(), key=lambda found: found[0].distance)  # stable: oldest first on ties
        duplicates = [NearDuplicate(item_id=m.item_id, distance=m.distance, decision=m.decision,
                                    image_decision=m.image_decision, signal_type=m.signal_type,
                                    frame=frame, background=background)
                      for m, frame, background in ranked[:limit]]
        return signal.model_copy(update={"near_duplicates": duplicates})

    def _bank_matches(self, plain_signals: dict, image: DecodedImage | None, prompt: str | None) -> dict | None:
        """Hash-bank matches of the image's hashes and the normalised prompt, for policies as ``banks``."""
        if self.banks is None:
            return None
        return bank_matches(self.banks, view_hashes(plain_signals), image.sha256 if image else None, prompt)

    def _record(self, request, prompt, image, plain_signals, failed, decision, timings) -> ModerationItem:
        pii = plain_signals.get("pii")
        image_hash = plain_signals.get("image_hash") or {}
        stored_signals = {
            name: {"model": self.classifiers[name].identity.as_dict(), **fields}
            for name, fields in plain_signals.items()
        }
        for name, error in failed.items():
            stored_signals[name] = {"model": self.classifiers[name].identity.as_dict(), "error": error}
        return ModerationItem(
            id=str(uuid.uuid4()),
            external_id=request.external_id,
            surface=request.surface,
            created_at=datetime.now(timezone.utc),
            decision=decision.action,
            reportable=decision.reportable,
            policy_name=decision.policy_name,
            policy_version=decision.policy_version,
            policy_sha256=decision.policy_sha256,
            # Without a PII signal there is no safe redacted form, so nothing is kept.
            prompt_redacted=pii["redacted_text"] if (prompt is not None and pii) else None,
            prompt_raw=self._sealed(prompt) if self.settings.store_raw_prompts and prompt is not None else None,
            image_sha256=image.sha256 if image else None,
            image_format=image.format if image else None,
            phash=image_hash.get("phash"),
            dhash=image_hash.get("dhash"),
            signals=stored_signals,
            reasons=[reason.as_dict() for reason in decision.reasons],
            model_versions={name: clf.identity.as_dict() for name, clf in self.classifiers.items()},
            timings_ms=dict(timings),
            request_metadata=request.metadata,
        )

    def _sealed(self, prompt: str) -> str:
        from cryptography.fernet import Fernet

        return Fernet(self.settings.raw_prompt_key.get_secret_value()).encrypt(prompt.encode()).decode()

    def _store(self, item: ModerationItem, review: ReviewQueueEntry | None,
               image_bytes: bytes | None, image: DecodedImage | None, hash_rows: list,
               prompt: str | None = None) -> None:
        entities = (item.signals.get("pii") or {}).get("entities") or []
        detected = [(e["type"], prompt[e["start"]:e["end"]]) for e in entities] if prompt else []
        # Nothing raw at rest, nor in the response built from this item.
        item.reasons = _redacted_reasons(item.reasons, detected)
        if item.shadow_reasons:
            item.shadow_reasons = _redacted_reasons(item.shadow_reasons, detected)
        item.request_metadata = pii_scrubbing.redact_json(item.request_metadata)
        # The image file first: a crash before the commit leaves only an unreferenced file.
        if image is not None and image_bytes is not None:
            self.image_store.put(image.sha256, image.format, image_bytes)
        self.repository.save(item, review, hash_rows)

    async def _run(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)


def prompt_facts(prompt: str | None) -> dict[str, dict[str, object]]:
    """The prompt for text conditions: normalised, so evasions do not slip past keywords.
    Never stored: it may hold personal data."""
    if prompt is None:
        return {}
    return {"prompt": {"text": normalize_for_classification(prompt), "length": len(prompt)}}


def _redacted_reasons(reasons: list[dict], detected: list[tuple[str, str]]) -> list[dict]:
    """Reasons with personal data in their ``values`` (a ``matches`` rule's matched text) redacted;
    ``detected``: (type, value) the PII signal found in the prompt."""
    return [{**reason, "values": pii_scrubbing.redact_json(reason["values"], detected)} if reason.get("values")
            else reason for reason in reasons]


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
