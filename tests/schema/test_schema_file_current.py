"""`schema.graphql` at the repository root is what the code prints: regenerate it when this fails."""

from __future__ import annotations

from pathlib import Path

from chatserver.schema import export_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
REGENERATE = "chatserver schema export --output schema.graphql"


def test_schema_file_matches_code() -> None:
    assert SCHEMA_FILE.exists(), f"schema.graphql is missing: run `{REGENERATE}`"
    assert SCHEMA_FILE.read_text() == export_sdl(), f"schema.graphql is stale: run `{REGENERATE}`"


def test_schema_file_carries_appsync_directives() -> None:
    sdl = SCHEMA_FILE.read_text()
    assert 'deleteRoom(id: ID!): Room @aws_cognito_user_pools(cognito_groups: ["admin"])' in sdl
    assert (
        "onCreateMessageByRoomId(roomId: ID, filter: ModelSubscriptionMessageFilterInput): Message "
        '@aws_subscribe(mutations: ["createMessage"])' in sdl
    )
    assert (
        "onCreateAudioSegment(roomId: ID!, filter: ModelSubscriptionAudioSegmentFilterInput): AudioSegment "
        '@aws_subscribe(mutations: ["createAudioSegment"])' in sdl
    )
    assert "input ModelSubscriptionStringInput {" in sdl  # Amplify's filter inputs (SPEC section 14)
