"""Builds the service's parts from settings: database, policy, classifiers, banks and their index."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import sessionmaker

from classifiers.base import Classifier
from classifiers.registry import build_candidates, build_classifiers, load_config
from moderation_service.candidates.config import CandidateSettings
from moderation_service.candidates.roster import Roster
from moderation_service.candidates.shadow import ShadowScorer
from moderation_service.banks.runtime import Banks, open_banks
from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
from moderation_service.image_store import ImageStore
from moderation_service.near_duplicates import EarlierItems
from moderation_service.active_policies import ActivePolicies
from moderation_service.policy import load_policy_set
from moderation_service.policy.schema import signal_schemas
from moderation_service.quality.config import QualitySettings
from moderation_service.quality.sampling import QualitySampler
from moderation_service.quality.store import count_since
from moderation_service.repository import ModerationRepository
from moderation_service.service import ModerationService
from moderation_service.settings import Settings
from moderation_service.private_files import prepare_data_dir

log = logging.getLogger(__name__)


@dataclass
class Storage:
    session_factory: sessionmaker
    repository: ModerationRepository
    image_store: ImageStore
    banks: Banks
    earlier: EarlierItems


def classifier_config(settings: Settings) -> dict:
    return load_config(settings.classifiers_config)


def load_service_policies(settings: Settings) -> ActivePolicies:
    """Raises PolicyError for an invalid policy, so the service refuses to start."""
    schemas = signal_schemas(classifier_config(settings))
    return ActivePolicies(settings.policy_path, lambda path: load_policy_set(path, schemas))


def open_storage(settings: Settings) -> Storage:
    prepare_data_dir(settings)  # 0700, the database 0600
    upgrade_to_head(settings.database_url)
    session_factory = make_session_factory(make_engine(settings.database_url))
    repository = ModerationRepository(session_factory)
    banks = open_banks(session_factory)  # loads bank entries and earlier items' hashes into one index
    banks.matcher.set_earlier_items_thresholds({"phash": settings.near_duplicate_max_distance,
                                                "pdq": settings.near_duplicate_pdq_max_distance})
    return Storage(session_factory, repository, ImageStore(settings.image_dir), banks,
                   EarlierItems(banks.matcher, session_factory))


def load_classifiers(settings: Settings) -> dict[str, Classifier]:
    started = time.perf_counter()
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    classifiers = build_classifiers(classifier_config(settings))
    log.info("loaded classifiers %s in %.1f s", sorted(classifiers), time.perf_counter() - started)
    return classifiers


def load_candidates(settings: Settings) -> dict[str, tuple[str, Classifier]]:
    """Candidate models of the configuration (``shadow: true``): {entry: (signal it would replace, model)}."""
    candidates = build_candidates(classifier_config(settings))
    if candidates:
        log.info("loaded candidate models %s (scored in shadow)", sorted(candidates))
    return candidates


def build_service(settings: Settings, policies: ActivePolicies, storage: Storage,
                  classifiers: dict[str, Classifier],
                  candidates: dict[str, tuple[str, Classifier]] | None = None) -> ModerationService:
    """The service with the models in force (promotions read from the database first), candidates
    scoring in shadow, and a watcher that applies later promotions without a restart."""
    models = CandidateSettings()
    roster = Roster(classifiers, candidates or {}, storage.session_factory)
    roster.sync(None)
    live = {signal: roster.pools[signal][roster.entry_of(signal)] for signal in classifiers}
    service = ModerationService(settings, live, policies, storage.repository, storage.image_store, storage.earlier,
                                banks=storage.banks, quality=quality_sampler(storage))
    service.roster = roster
    service.shadow = ShadowScorer(roster, storage.session_factory, models.shadow_queue_size, models.shadow_batch_size)
    if candidates:
        service.shadow.start()
    if models.watch_interval_s > 0:
        roster.watch(lambda: service, models.watch_interval_s)
    return service


def quality_sampler(storage: Storage) -> QualitySampler | None:
    """The blind-review sampler of live traffic, when MODERATION_QUALITY_* turns it on."""
    settings = QualitySettings()
    if not settings.enabled:
        return None
    return QualitySampler(settings, partial(count_since, storage.session_factory))
