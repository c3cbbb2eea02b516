"""Bulk imports stream: memory stays flat however long the file, and a file of any size loads from disk."""
from __future__ import annotations

import tracemalloc

from moderation_service.banks.import_file import main as import_file
from moderation_service.banks.store import BankStore
from moderation_service.banks.transfer import import_entries
from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head

def store_at(tmp_path) -> BankStore:
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'banks.db'}"
    upgrade_to_head(url)
    return BankStore(make_session_factory(make_engine(url)))


def peak_memory_of_import(tmp_path, rows: int) -> int:
    store = store_at(tmp_path)
    store.create_bank("big", "block")
    lines = (f"pdq,{i:064x},label {i}\n" for i in range(rows))  # generated lazily, never a list
    tracemalloc.start()
    try:
        assert import_entries(store, "big", lines, source="import")["imported"] == rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_import_memory_does_not_grow_with_the_file(tmp_path):
    small = peak_memory_of_import(tmp_path / "small", 2_000)
    large = peak_memory_of_import(tmp_path / "large", 6_000)  # three times the rows
    assert large < small * 1.25, f"peak {small / 2**20:.1f} MiB for 2k rows, {large / 2**20:.1f} MiB for 6k"


def test_the_file_importer_is_all_or_nothing_too(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODERATION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MODERATION_DATABASE_URL", f"sqlite:///{tmp_path / 'banks.db'}")
    store = store_at(tmp_path)
    store.create_bank("from-file", "watch")
    bad = tmp_path / "bad.csv"
    bad.write_text("signal_type,hash,label\nphash,0123456789abcdef,ok\nphash,nothex,bad\n")
    assert import_file([str(bad), "--bank", "from-file"]) == 1
    assert '"line": 3' in capsys.readouterr().err
    assert store.get_bank("from-file")["entries"] == 0
    good = tmp_path / "good.csv"
    good.write_text("\ufeffphash,0123456789abcdef,ok\n")  # a byte-order mark, as spreadsheets write
    assert import_file([str(good), "--bank", "from-file"]) == 0
    assert store.get_bank("from-file")["entries"] == 1
