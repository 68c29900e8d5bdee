"""Files: resolving InputFile-or-String values, photo sizes, and getFile."""

from __future__ import annotations

import struct
from typing import Any
from urllib.parse import urlparse

from sandbox.errors import bad_request
from sandbox.methods.base import Call, handles
from sandbox.models import UploadedFile
from sandbox.spec import ATTACH_PREFIX
from sandbox.state import (
    StoredFile,
)

DOWNLOAD_LIMIT = 20 * 1024 * 1024
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def input_file(call: Call, value: Any, kind: str) -> StoredFile:
    """Resolve an InputFile-or-String value to a stored file of ``kind``."""
    world = call.world
    if isinstance(value, UploadedFile):
        if not value.data:
            raise bad_request("file must be non-empty")
        if kind == "photo" and not value.data.startswith(_IMAGE_MAGIC) and not _is_webp(value.data):
            raise bad_request("IMAGE_PROCESS_FAILED")
        return world.add_file(kind, value.data, value.filename, _content_type(value))
    if not isinstance(value, str) or not value:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if value.startswith(ATTACH_PREFIX):
        part = call.files.get(value[len(ATTACH_PREFIX) :])
        if part is None:
            raise bad_request(f"file {value!r} is not attached to the request")
        return input_file(call, part, kind)
    if value.startswith(("http://", "https://")):
        # No network here: the sandbox stands in an empty file for what Telegram would fetch.
        name = urlparse(value).path.rsplit("/", 1)[-1] or "file"
        return world.add_file(kind, b"", name)
    stored = world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request("type of file mismatch")
    return stored


def _content_type(part: UploadedFile) -> str | None:
    if part.content_type and part.content_type != "application/octet-stream":
        return part.content_type
    return None


def _is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG, GIF or JPEG header; a square guess otherwise."""
    if data.startswith(b"\x89PNG") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:3] == b"GIF" and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                break
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2 : index + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + length
    return 512, 512


def photo_sizes(call: Call, stored: StoredFile) -> list[dict[str, Any]]:
    width, height = _image_size(stored.data)
    full = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "width": width,
        "height": height,
    }
    biggest = max(width, height)
    if biggest <= 90:
        return [full]
    scale = 90 / biggest
    thumb = call.world.add_file(
        "photo", stored.data, stored.file_name, stored.mime_type, variant="thumbnail"
    )
    small = {
        "file_id": thumb.file_id,
        "file_unique_id": thumb.file_unique_id,
        "file_size": len(stored.data),
        "width": max(1, round(width * scale)),
        "height": max(1, round(height * scale)),
    }
    return [small, full]


@handles("getFile")
def get_file(call: Call) -> dict[str, Any]:
    """A path to download a known file from."""
    stored = call.world.files.get(call.params["file_id"])
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return stored.api_file()
