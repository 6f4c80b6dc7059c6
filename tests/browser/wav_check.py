"""Checks on what the browser sent: audio clips as standalone WAV data: URLs, and a tiny PNG to upload."""

from __future__ import annotations

import base64
import binascii
import struct
import zlib

WAV_PREFIX = "data:audio/wav;base64,"


def wav_data_bytes(url: str) -> int:
    """The size of the `data` chunk of a standalone RIFF/WAVE data: URL; AssertionError if it is not one."""
    assert url.startswith(WAV_PREFIX), url[:64]
    try:
        raw = base64.b64decode(url[len(WAV_PREFIX) :], validate=True)
    except binascii.Error as error:
        raise AssertionError(f"not base64: {error}") from None
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE", raw[:12]
    assert struct.unpack_from("<I", raw, 4)[0] == len(raw) - 8, "RIFF size does not match the file"
    offset, fmt, data_size = 12, None, None
    while offset + 8 <= len(raw):
        chunk_id, size = raw[offset : offset + 4], struct.unpack_from("<I", raw, offset + 4)[0]
        if chunk_id == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", raw, offset + 8)
        elif chunk_id == b"data":
            data_size = size
            assert offset + 8 + size <= len(raw), "data chunk runs past the end"
        offset += 8 + size + (size & 1)
    assert fmt is not None, "no fmt chunk"
    audio_format, channels, rate, byte_rate, block_align, bits = fmt
    assert (audio_format, channels, bits) == (1, 1, 16), fmt
    assert rate >= 8000 and byte_rate == rate * block_align, fmt
    assert data_size, "empty or missing data chunk"
    return data_size


def tiny_png(width: int = 240, height: int = 120) -> bytes:
    """A valid RGB PNG: a blue-to-teal gradient."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"".join(bytes((0x25, 0x63 + x * 0x60 // width, 0xEB - x * 0x50 // width)) for x in range(width))
    rows = b"".join(b"\x00" + row for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
