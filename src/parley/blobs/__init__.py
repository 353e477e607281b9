"""File storage behind one narrow interface (see base.BlobStore)."""

from __future__ import annotations

from pathlib import Path

from parley.blobs.base import BlobStore, BlobUnavailable, SavedBlob
from parley.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "BlobUnavailable", "LocalBlobStore", "SavedBlob", "open_blob_store"]


def open_blob_store(url: str, default_dir: Path) -> BlobStore:
    """The store ``url`` names: ``s3://bucket/prefix``, a folder, or "" for ``default_dir``.

    Not yet checked: call its ``prepare`` (blocking) before use.
    """
    if url.startswith("s3://"):
        from parley.blobs.s3 import S3BlobStore  # boto3 loads only when it is used

        return S3BlobStore(url)
    return LocalBlobStore(Path(url.removeprefix("file://")) if url else default_dir)
