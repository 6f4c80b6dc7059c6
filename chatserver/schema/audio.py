"""Audio segments: the walkie-talkie's push-to-talk clips, relayed live and never stored."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from chatserver.clock import epoch_ms
from chatserver.errors import NotFound, ValidationFailed
from chatserver.schema.common import identity, services
from chatserver.schema.directives import AwsSubscribe, signed_in
from chatserver.schema.subscription_filters import AudioSegmentFilter

FRAME_ENVELOPE_BYTES = 1024  # roomId (<= 128), userId, timestamp, field names and braces, with room to spare


@strawberry.type(directives=signed_in())  # live voice between signed-in users: no API keys
class AudioSegment:
    room_id: strawberry.ID
    data: str
    timestamp: str
    user_id: str


@strawberry.type
class AudioMutations:
    @strawberry.mutation(directives=signed_in())
    async def create_audio_segment(
        self, info: Info, room_id: strawberry.ID, data: str
    ) -> AudioSegment | None:
        svc = services(info)
        limit = svc.settings.max_audio_bytes
        # AppSync silently drops subscription payloads over 240 KB; here the sender hears about it. The clip
        # must fit with its frame (roomId, timestamp, userId, keys); the encoded size is only worked out
        # when escaping could bring the clip near the limit (JSON escapes grow a character at most 6x).
        if len(data) * 6 + FRAME_ENVELOPE_BYTES > limit and (
            len(data) + FRAME_ENVELOPE_BYTES > limit
            or len(json.dumps(data, ensure_ascii=False).encode()) - 2 + FRAME_ENVELOPE_BYTES > limit
        ):
            raise ValidationFailed(
                f"Audio data is over the {limit // 1024} KB limit of a subscription payload "
                f"(less {FRAME_ENVELOPE_BYTES} bytes for the rest of the event); send shorter clips."
            )
        if await svc.rooms.get(room_id) is None:
            raise NotFound(f"Room {room_id} was not found.")
        return AudioSegment(room_id=room_id, data=data, timestamp=str(epoch_ms()), user_id=identity(info).sub)


async def _no_local_stream() -> AsyncGenerator[AudioSegment | None, None]:
    raise NotImplementedError("subscriptions are served over WebSocket")
    yield None


@strawberry.type
class AudioSubscriptions:
    @strawberry.subscription(directives=[AwsSubscribe(mutations=["createAudioSegment"]), *signed_in()])
    async def on_create_audio_segment(
        self, room_id: strawberry.ID, filter_: AudioSegmentFilter = strawberry.UNSET
    ) -> AsyncGenerator[AudioSegment | None, None]:
        return _no_local_stream()
