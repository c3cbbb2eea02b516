"""What `moderation policy lint` checks beyond compiling: names that live outside
the policy files (banks in the database, queues in the review settings), and an
account of which review rule wins when several fire."""
from __future__ import annotations

from typing import Any, Iterable

from moderation_service.policy import CompiledPolicy, Problem
from moderation_service.policy.yaml_source import YamlSourceError, load_source

BANK_FIELDS = ("banks.matches.bank", "banks.quarantined.bank")


def database_bank_names(database_url: str) -> tuple[tuple[str, ...] | None, str]:
    """(bank names, "") from the database, or (None, why not) when it cannot be read.

    Reads only: a missing SQLite file is not created, and nothing is migrated."""
    from pathlib import Path

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            if not url.database or not Path(url.database).is_file():
                return None, f"no database file at {url.database}"
            engine = create_engine(url.set(query={**url.query, "mode": "ro"}))
        else:
            engine = create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                names = connection.execute(text("SELECT name FROM hash_banks ORDER BY name")).scalars().all()
        finally:
            engine.dispose()
    except Exception as exc:  # any driver's error means the same here: names cannot be checked
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return tuple(names), ""


def mentions_bank_names(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """The files whose conditions compare bank names."""
    return [name for name, raw in files if any(field.encode() in raw for field in BANK_FIELDS)]


def queue_problems(files: Iterable[tuple[str, bytes]], declared: set[str]) -> list[Problem]:
    """A warning for each review queue a rule or on_error names that the review settings
    do not declare: it works, but gets queue priority 0 and the default SLA, which is
    usually a typo (`txt` for `text`)."""
    problems: list[Problem] = []
    for name, raw in files:
        try:
            document = load_source(raw, name)
        except (YamlSourceError, UnicodeDecodeError):
            continue  # the compile step reports it
        data = document.data if isinstance(document.data, dict) else {}
        places: list[tuple[tuple, Any]] = []
        rules = data.get("rules")
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            if isinstance(rule, dict):
                places.append((("rules", index, "then"), rule.get("then")))
        on_error = data.get("on_error")
        if isinstance(on_error, dict) and "action" not in on_error:
            places.extend(((("on_error", key), spec) for key, spec in on_error.items()))
        else:
            places.append((("on_error",), on_error))
        for path, spec in places:
            if isinstance(spec, dict) and spec.get("action") == "review" and isinstance(spec.get("queue"), str):
                queue = spec["queue"]
                if queue not in declared:
                    problems.append(Problem.at(name, document.position(path + ("queue",)),
                                               f"review queue {queue!r} is not declared in the review settings "
                                               f"(MODERATION_REVIEW_QUEUE_PRIORITIES or _SLA_S; declared: "
                                               f"{', '.join(sorted(declared))}); it gets priority 0 and the "
                                               f"default SLA", "warning"))
    return problems


def review_order(policy: CompiledPolicy) -> str | None:
    """Which review rule wins when several fire: rule `priority` first, then file order.
    None when the policy has fewer than two review rules."""
    reviews = [rule for rule in policy.rules if rule.spec.then.action == "review"]
    if len(reviews) < 2:
        return None
    ranked = sorted(enumerate(reviews), key=lambda pair: (-pair[1].spec.priority, pair[0]))
    parts = [f"{rule.spec.id} (priority {rule.spec.priority}; queue {rule.spec.then.queue}, "
             f"queue_priority {rule.spec.then.queue_priority})" for _, rule in ranked]
    return (f"{policy.name}: when several review rules fire, the first of these wins (rule `priority`, then file "
            f"order) and its queue and queue_priority are the item's: " + " > ".join(parts))
