"""The parts resolvers and the executor reach (`info.context.services`): built once by app.py, typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import strawberry
    from sqlalchemy.ext.asyncio import AsyncEngine

    from chatserver.auth.accounts import AccountService
    from chatserver.auth.api_keys import ApiKeyService
    from chatserver.auth.group_admin import GroupAdmin
    from chatserver.auth.keys import SigningKeys
    from chatserver.auth.modes import CredentialResolver
    from chatserver.auth.oidc import OidcVerifier
    from chatserver.auth.tokens import TokenVerifier
    from chatserver.config import Settings
    from chatserver.persistence.messages import MessagesRepository
    from chatserver.persistence.pagination import PageTokens
    from chatserver.persistence.rooms import RoomsRepository
    from chatserver.persistence.users import UsersRepository
    from chatserver.realtime.engine import RealtimeEngine
    from chatserver.storage.service import FileService


@dataclass(slots=True)
class Services:
    """The open parts of one server, below execution/ and schema/ so both can hold it without a circle.

    The transports get these too, plus what only they need (`chatserver.transport.state.AppServices`)."""

    settings: Settings
    engine: AsyncEngine
    page_tokens: PageTokens
    users: UsersRepository
    rooms: RoomsRepository
    messages: MessagesRepository
    accounts: AccountService
    verifier: TokenVerifier
    keys: SigningKeys
    files: FileService
    realtime: RealtimeEngine
    schema: strawberry.Schema
    groups: GroupAdmin  # removing group members
    credentials: CredentialResolver  # every transport's one way in
    api_keys: ApiKeyService | None  # when API_KEY is enabled
    oidc: OidcVerifier | None  # when OPENID_CONNECT is enabled
