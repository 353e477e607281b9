"""Test data for file sharing: images made with Pillow, a PNG bomb, uploads."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import httpx
from PIL import Image

EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825


def jpeg(
    width: int = 40, height: int = 20, *, orientation: int | None = None, gps: bool = False
) -> bytes:
    """A JPEG, optionally with an EXIF orientation and a GPS position."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    if gps:
        exif.get_ifd(EXIF_GPS_IFD).update(
            {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
        )
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A small valid-looking PNG whose header declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 64, 9)  # a few rows; the rest missing
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


async def upload(
    http: httpx.AsyncClient,
    data: bytes,
    name: str = "file.bin",
    claimed_type: str = "application/octet-stream",
) -> httpx.Response:
    return await http.post("/api/files", files={"file": (name, data, claimed_type)})


async def uploaded(
    http: httpx.AsyncClient,
    data: bytes,
    name: str = "file.bin",
    claimed_type: str = "application/octet-stream",
) -> dict[str, Any]:
    r = await upload(http, data, name, claimed_type)
    assert r.status_code == 201, r.text
    return dict(r.json()["file"])
