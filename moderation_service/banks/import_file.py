"""Imports a bank file of any size straight from disk, past the HTTP body limit.

    python -m moderation_service.banks.import_file --bank known-bad list.csv [--format hma]

Same rules as the API: streamed, all or nothing, bad rows reported by line.
Uses MODERATION_DATABASE_URL (or the default SQLite file) like the service;
running processes pick the entries up on their next sync.
"""
from __future__ import annotations

import argparse
import json
import sys

from moderation_service.banks.store import BankStore
from moderation_service.banks.transfer import import_entries
from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
from moderation_service.errors import ApiError
from moderation_service.settings import Settings
from moderation_service.private_files import prepare_data_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--bank", required=True)
    parser.add_argument("--format", choices=["csv", "hma"], default="csv")
    args = parser.parse_args(argv)
    settings = Settings()
    prepare_data_dir(settings)  # 0700, the database 0600
    upgrade_to_head(settings.database_url)
    store = BankStore(make_session_factory(make_engine(settings.database_url)))
    try:
        with open(args.path, encoding="utf-8-sig", newline="") as lines:
            result = import_entries(store, args.bank, lines, source="import", file_format=args.format)
    except ApiError as exc:
        print(json.dumps(exc.body(), indent=2), file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
