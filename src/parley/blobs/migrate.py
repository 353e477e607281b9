"""``parley blobs migrate``: copy every blob the database refers to into another store.

Resumable: a blob the target already holds is skipped, so a run that stopped (or
failed on one blob) is simply run again. Each copy is checked: the target names bytes
by their hash, so a blob whose bytes no longer match its key is reported, not copied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parley.blobs.base import BlobStore


@dataclass
class MigrateReport:
    total: int = 0
    copied: int = 0
    present: int = 0
    copied_bytes: int = 0
    missing: int = 0  # referred to, but not in the source store
    corrupt: int = 0  # the source's bytes do not hash to their key

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.corrupt == 0


async def migrate(
    keys: list[str], source: BlobStore, target: BlobStore, say: Callable[[str], None]
) -> MigrateReport:
    report = MigrateReport(total=len(keys))
    width = len(str(len(keys)))
    for number, key in enumerate(keys, 1):
        where = f"[{number:>{width}}/{len(keys)}] {key[:12]}"
        if await target.exists(key):
            report.present += 1
            say(f"{where} already there")
            continue
        if await source.size(key) is None:
            report.missing += 1
            say(f"{where} MISSING from the source, skipped")
            continue
        saved = await target.save(source.open_range(key))
        if saved.key != key:
            await target.delete(saved.key)
            report.corrupt += 1
            say(f"{where} CORRUPT: its bytes hash to {saved.key[:12]}, not copied")
            continue
        report.copied += 1
        report.copied_bytes += saved.size
        say(f"{where} copied ({saved.size} bytes)")
    return report
