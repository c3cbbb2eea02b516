"""The policies in force, swapped atomically on reload; an invalid set never replaces a valid one."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from moderation_service.policy import PolicyError, PolicySet
from moderation_service.policy.policy_set import policy_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadOutcome:
    applied: bool
    fingerprint: str
    problems: list[str] = field(default_factory=list)
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class ActivePolicies:
    def __init__(self, path: Path, load: Callable[[Path], PolicySet]) -> None:
        self.path = Path(path)
        self._load = load
        self.current: PolicySet = load(self.path)  # raises PolicyError: refuse to start
        self.last_outcome = ReloadOutcome(True, self.current.fingerprint)
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._stop = threading.Event()

    def reload(self) -> ReloadOutcome:
        with self._lock:
            self._stamp = self._file_stamp()
            try:
                candidate = self._load(self.path)
            except PolicyError as exc:
                problems = [str(problem) for problem in exc.problems]
                log.error("policy reload refused; the previous policies keep serving:\n%s", "\n".join(problems))
                self.last_outcome = ReloadOutcome(False, self.current.fingerprint, problems)
                return self.last_outcome
            self.current = candidate  # one reference swap: a request sees the old set or the new one
            log.info("policies reloaded: %s", ", ".join(sorted(candidate.policies)))
            self.last_outcome = ReloadOutcome(True, candidate.fingerprint)
            return self.last_outcome

    def watch(self, interval_s: float = 2.0) -> None:
        """Reload when a policy file changes (polling: no extra dependency, works on any filesystem)."""
        def loop() -> None:
            while not self._stop.wait(interval_s):
                if self._file_stamp() != self._stamp:
                    self.reload()

        threading.Thread(target=loop, name="policy-watcher", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _file_stamp(self) -> tuple:
        stamp = []
        for file in policy_files(self.path):
            try:
                info = file.stat()
                stamp.append((str(file), info.st_mtime_ns, info.st_size))
            except OSError:
                stamp.append((str(file), None, None))
        return tuple(stamp)
