"""The CLI's operations (`user create`, `user add-to-group`, `token`) on services opened in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatserver.app import open_services
from chatserver.auth.errors import (
    UsernameExistsException,
    UserNotConfirmedException,
    UserNotFoundException,
)
from chatserver.config import Settings
from chatserver.errors import UnauthorizedException
from tests.auth.flows import PASSWORD, CodeLog
from tests.databases import fresh_database_url


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    with fresh_database_url() as database_url:
        yield Settings(data_dir=tmp_path / "data", database_url=database_url)


async def test_create_confirmed_admin_and_mint_a_token(settings: Settings) -> None:
    async with open_services(settings) as services:
        record = await services.accounts.create_user(
            "root", PASSWORD, "root@example.com", given_name="Root", groups=["admin"], confirmed=True
        )
        token = await services.accounts.mint_access_token("root")
        identity = services.verifier.verify(token)
        assert (identity.sub, identity.username, identity.token_use) == (record.sub, "root", "access")
        assert identity.is_admin
        profile = await services.users.get(record.sub)
        assert profile is not None
        assert (profile.username, profile.given_name) == ("root", "Root")
        with pytest.raises(UsernameExistsException):
            await services.accounts.create_user("root", PASSWORD, "root@example.com")


async def test_add_to_group_puts_the_group_in_new_tokens(settings: Settings) -> None:
    async with open_services(settings) as services:
        await services.accounts.create_user("mod", PASSWORD, "mod@example.com", confirmed=True)
        before = services.verifier.verify(await services.accounts.mint_access_token("mod"))
        assert before.groups == frozenset()
        await services.accounts.add_to_group("mod", "admin")
        await services.accounts.add_to_group("mod", "moderators")
        await services.accounts.add_to_group("mod", "admin")  # idempotent
        after = services.verifier.verify(await services.accounts.mint_access_token("mod"))
        assert after.groups == {"admin", "moderators"}


async def test_unconfirmed_users_get_a_code_and_no_token(settings: Settings, codes: CodeLog) -> None:
    async with open_services(settings) as services:
        await services.accounts.create_user("new", PASSWORD, "new@example.com")
        assert codes.latest("new")
        with pytest.raises(UserNotConfirmedException):
            await services.accounts.mint_access_token("new")


async def test_unknown_users_are_user_not_found(settings: Settings) -> None:
    async with open_services(settings) as services:
        with pytest.raises(UserNotFoundException):
            await services.accounts.add_to_group("ghost", "admin")
        with pytest.raises(UserNotFoundException):
            await services.accounts.mint_access_token("ghost")


async def test_a_signout_still_holds_after_a_restart(settings: Settings) -> None:
    async with open_services(settings) as services:
        await services.accounts.create_user("alice", PASSWORD, "a@example.com", confirmed=True)
        token = await services.accounts.mint_access_token("alice")
        await services.accounts.signout(token)
    async with open_services(settings) as services:
        with pytest.raises(UnauthorizedException):
            services.verifier.verify(token)
        fresh = await services.accounts.mint_access_token("alice")
        assert services.verifier.verify(fresh).username == "alice"
