"""The image types uploads may declare, and how their first bytes are recognised."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImageFormat:
    content_type: str
    extension: str

    def matches(self, head: bytes) -> bool:
        """True when `head` (the first HEAD_BYTES of the body, or all of a shorter one) starts like this format."""
        match self.extension:
            case "png":
                return head.startswith(b"\x89PNG\r\n\x1a\n")
            case "jpg":
                return head.startswith(b"\xff\xd8\xff")
            case "gif":
                return head.startswith((b"GIF87a", b"GIF89a"))
            case "webp":
                return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
        return False


HEAD_BYTES = 12  # enough for every signature above

IMAGE_FORMATS: dict[str, ImageFormat] = {
    f.content_type: f
    for f in (
        ImageFormat("image/png", "png"),
        ImageFormat("image/jpeg", "jpg"),
        ImageFormat("image/gif", "gif"),
        ImageFormat("image/webp", "webp"),
    )
}
