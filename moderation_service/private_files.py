"""The data folder and the SQLite database are private to the service's user.

The database holds webhook signing secrets, API-key digests and (encrypted) raw
prompts; the folder holds the images. ``prepare_data_dir`` makes the folder 0700
and the SQLite file 0600 (SQLite gives its -wal and -shm files the database
file's mode), whether they are new or were left more open by an older version.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

DIR_MODE = 0o700
FILE_MODE = 0o600


def prepare_data_dir(settings) -> None:
    settings.data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(settings.data_dir, DIR_MODE)
    database = sqlite_file(settings.database_url)
    if database is not None:
        database.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.close(os.open(database, os.O_CREAT | os.O_RDWR, FILE_MODE))  # created private, never 0644 first
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"), Path(f"{database}-journal")):
            if path.exists():
                os.chmod(path, FILE_MODE)


def sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)
