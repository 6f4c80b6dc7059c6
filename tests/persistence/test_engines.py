"""The persistence layer on whichever engine the suite runs on (SQLite, or PostgreSQL with the test switch)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chatserver.config import Settings
from chatserver.persistence.accounts import AccountRecord, AccountsRepository, RefreshRecord, UsernameTaken
from chatserver.persistence.database import create_engine, current_revision, migrate, sqlite_path
from chatserver.persistence.messages import MessagesRepository, RoomMissing
from chatserver.persistence.pagination import PageTokens
from chatserver.persistence.rooms import RoomExists, RoomsRepository
from chatserver.persistence.sqlite_direct import SqliteDirect
from chatserver.persistence.users import UsersRepository
from tests.databases import on_postgresql


@pytest.fixture
async def engine(tmp_path: Path, database_url: str) -> AsyncIterator[AsyncEngine]:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    engine = create_engine(settings.resolved_database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlalchemy", "sqlite-direct"])
async def messages(request: pytest.FixtureRequest, engine: AsyncEngine) -> AsyncIterator[MessagesRepository]:
    """The repository through SQLAlchemy, and (on SQLite, as the server runs it) with the one-hop direct path."""
    direct = None
    if request.param == "sqlite-direct":
        path = sqlite_path(engine.url.render_as_string(hide_password=False))
        if path is None:
            pytest.skip("the direct path is SQLite's")
        direct = SqliteDirect(path)
    try:
        async with MessagesRepository(engine, direct).running() as repository:
            yield repository
    finally:
        if direct is not None:
            direct.close()


def _account(sub: str, username: str) -> AccountRecord:
    return AccountRecord(
        sub=sub,
        username=username,
        password_hash="hash",
        email=f"{username}@example.com",
        given_name=None,
        family_name=None,
        status="CONFIRMED",
        created_at="2026-01-01T00:00:00.000Z",
        tokens_valid_after=0,
    )


@pytest.mark.skipif(not on_postgresql(), reason="replicas share a database only on PostgreSQL")
async def test_migrations_concurrent_starts_reach_head(tmp_path: Path, database_url: str) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    engines = [create_engine(settings.resolved_database_url) for _ in range(3)]
    try:
        revisions = await asyncio.gather(*(migrate(e) for e in engines))
        assert len(set(revisions)) == 1 and revisions[0] is not None
        assert await current_revision(engines[0]) == revisions[0]
    finally:
        for e in engines:
            await e.dispose()


async def test_rooms_duplicate_id_is_room_exists(engine: AsyncEngine) -> None:
    rooms = RoomsRepository(engine)
    await rooms.create(room_id="r1", name="one", owner=None)
    with pytest.raises(RoomExists):
        await rooms.create(room_id="r1", name="again", owner=None)
    assert (await rooms.get("r1")).name == "one"


async def test_rooms_get_on_both_paths(engine: AsyncEngine) -> None:
    """`get` as the server runs it on SQLite (the one-hop direct path) and through SQLAlchemy: the same record."""
    await RoomsRepository(engine).create(room_id="r1", name="one ✓", owner="alice")
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    direct = SqliteDirect(path) if path is not None else None
    try:
        for repository in (RoomsRepository(engine), RoomsRepository(engine, direct)):
            room = await repository.get("r1")
            assert room is not None and (room.id, room.name, room.owner) == ("r1", "one ✓", "alice")
            assert await repository.get("r2") is None
    finally:
        if direct is not None:
            direct.close()


async def test_messages_in_missing_room_is_room_missing(messages: MessagesRepository) -> None:
    with pytest.raises(RoomMissing):
        await messages.create(message_id="m1", room_id="nowhere", owner="u", text="hi", image_id=None)


async def test_messages_batch_with_a_missing_room_commits_the_others(
    engine: AsyncEngine, messages: MessagesRepository
) -> None:
    await RoomsRepository(engine).create(room_id="r1", name="one", owner=None)
    outcomes = await asyncio.gather(
        *(
            messages.create(
                message_id=f"m{n}",
                room_id="nowhere" if n == 3 else "r1",
                owner="u",
                text=f"{n}",
                image_id=None,
            )
            for n in range(8)
        ),
        return_exceptions=True,
    )
    assert isinstance(outcomes[3], RoomMissing)
    page = await messages.list_for_room("r1", PageTokens(b"k" * 32).request("b", 50, None))
    assert [m.text for m in page.items] == [f"{n}" for n in range(8) if n != 3]


async def test_messages_room_delete_cascades(engine: AsyncEngine, messages: MessagesRepository) -> None:
    rooms = RoomsRepository(engine)
    await rooms.create(room_id="r1", name="one", owner=None)
    await messages.create(message_id="m1", room_id="r1", owner="u", text="hi", image_id=None)
    await rooms.delete("r1")
    assert await messages.get("m1") is None


async def test_messages_owner_conditions_hold(engine: AsyncEngine, messages: MessagesRepository) -> None:
    rooms = RoomsRepository(engine)
    await rooms.create(room_id="r1", name="one", owner=None)
    await messages.create(message_id="m1", room_id="r1", owner="alice", text="hi", image_id=None)
    assert (
        await messages.update_content(message_id="m1", room_id="r1", owner="bob", text="x", image_id=None)
        is None
    )
    assert await messages.delete(message_id="m1", owner="bob") is None
    updated = await messages.update_content(
        message_id="m1", room_id="r1", owner="alice", text="edited", image_id=None
    )
    assert updated is not None and updated.text == "edited"
    assert (await messages.delete(message_id="m1", owner=None)).id == "m1"


@pytest.mark.parametrize("descending", [False, True])
async def test_pagination_keyset_pages_cover_every_row_once(
    engine: AsyncEngine, messages: MessagesRepository, descending: bool
) -> None:
    rooms = RoomsRepository(engine)
    await rooms.create(room_id="r1", name="one", owner=None)
    ids = [f"m{i:02d}" for i in range(7)]
    for message_id in ids:
        await messages.create(message_id=message_id, room_id="r1", owner="u", text=message_id, image_id=None)
    tokens = PageTokens(b"k" * 32)
    seen: list[str] = []
    token = None
    while True:
        request = tokens.request("messages|r1", 3, token, descending=descending)
        page = await messages.list_for_room("r1", request)
        seen.extend(m.id for m in page.items)
        token = tokens.token(page)
        if token is None:
            break
    stored = [m.id for m in (await messages.list_for_room("r1", tokens.request("x", 100, None))).items]
    assert seen == (list(reversed(stored)) if descending else stored)
    assert sorted(seen) == ids


async def test_accounts_username_unique_and_revocations(engine: AsyncEngine) -> None:
    store = AccountsRepository(engine)
    await store.create(_account("s1", "alice"))
    with pytest.raises(UsernameTaken):
        await store.create(_account("s2", "alice"))
    big = 2**40  # epoch seconds far beyond 32 bits stay exact
    await store.add_refresh_token(
        RefreshRecord(
            token_hash="h", sub="s1", origin_jti="j", auth_time=big, expires_at=big + 1, revoked=False
        ),
        now=0,
    )
    stored = await store.get_refresh_token("h")
    assert stored is not None and stored.revoked is False and stored.expires_at == big + 1
    valid_after = await store.sign_out("s1", 1_700_000_000)
    assert await store.revocations() == {"s1": valid_after}
    assert await store.get_refresh_token("h") is None


async def test_accounts_groups_idempotent(engine: AsyncEngine) -> None:
    store = AccountsRepository(engine)
    await store.create(_account("s1", "alice"))
    await store.add_to_group("s1", "admin")
    await store.add_to_group("s1", "admin")
    assert await store.groups_of("s1") == ("admin",)


async def test_users_profile_created_once(engine: AsyncEngine) -> None:
    users = UsersRepository(engine)
    for _ in range(2):
        await users.create_profile(sub="s1", username="alice", email=None, given_name=None, family_name=None)
    assert (await users.get("s1")).username == "alice"


async def test_text_with_nul_is_stored_and_looked_up_without_failing(
    engine: AsyncEngine, messages: MessagesRepository
) -> None:
    rooms = RoomsRepository(engine)
    assert await rooms.get("\x00") is None
    await rooms.create(room_id="r1", name="one", owner=None)
    stored = await messages.create(message_id="m1", room_id="r1", owner="u", text="a\x00b", image_id=None)
    assert (await messages.get(stored.id)).text in {"a\x00b", "a\ufffdb"}  # PostgreSQL text cannot hold NUL


async def test_accounts_first_members_of_a_new_group_join_at_once(engine: AsyncEngine) -> None:
    accounts = AccountsRepository(engine)
    for sub in ("s-1", "s-2", "s-3"):
        await accounts.create(_account(sub, f"user-{sub}"))
    await asyncio.gather(*(accounts.add_to_group(sub, "moderators") for sub in ("s-1", "s-2", "s-3")))
    await accounts.add_to_group("s-1", "moderators")  # again: still one membership
    assert [await accounts.groups_of(sub) for sub in ("s-1", "s-2", "s-3")] == [("moderators",)] * 3
