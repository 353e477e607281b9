"""File storage behind one narrow interface (see base.BlobStore)."""

from parley.blobs.base import BlobStore, SavedBlob
from parley.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "LocalBlobStore", "SavedBlob"]
