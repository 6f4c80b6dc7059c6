"""The one place that wires concrete parts together: `create_app(settings)` builds everything."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from chatserver.config import Settings
from chatserver.execution.executor import Executor
from chatserver.persistence.database import create_engine, migrate
from chatserver.persistence.messages import MessagesRepository
from chatserver.persistence.rooms import RoomsRepository
from chatserver.persistence.pagination import PageTokens
from chatserver.persistence.users import UsersRepository
from chatserver.realtime.publisher import RecordingPublisher
from chatserver.schema import build_schema
from chatserver.secrets import load_or_create_secret

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("chatserver")

CORS_ALLOWED_HEADERS = [
    "authorization",
    "content-type",
    "x-amz-user-agent",
    "x-api-key",
    "x-amz-date",
]


@dataclass(slots=True)
class Services:
    """Everything the transports reach through `request.app.state.services` once the lifespan runs."""

    settings: Settings
    engine: AsyncEngine
    page_tokens: PageTokens
    users: UsersRepository
    # Filled in by open_services as each part is built (typed Any to keep this module import-light).
    rooms: Any = None
    messages: Any = None
    accounts: Any = None  # chatserver.auth.accounts.AccountService
    verifier: Any = None  # chatserver.auth.tokens.TokenVerifier
    keys: Any = None  # chatserver.auth.keys.SigningKeys
    files: Any = None
    realtime: Any = None
    schema: Any = None
    executor: Any = None


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open database, auth, broker and engine in order; close them in reverse."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        revision = await migrate(engine)
        log.info("database ready at revision %s", revision)
        secret = load_or_create_secret(settings.data_dir / "url-signing-secret")
        services = Services(
            settings=settings,
            engine=engine,
            page_tokens=PageTokens(secret),
            users=UsersRepository(engine),
        )
        # --- auth (chatserver/auth) ---
        # --- rooms, messages, files ---
        services.rooms = RoomsRepository(engine)
        services.messages = MessagesRepository(engine)
        # --- realtime engine ---
        # --- schema and executor ---
        services.schema = build_schema()
        publisher = services.realtime if services.realtime is not None else RecordingPublisher()
        services.executor = Executor(services.schema, services, publisher)
        yield services


def create_app(settings: Settings) -> Starlette:
    """Build the ASGI app; the lifespan opens the services."""
    from chatserver.transport.routes import build_routes

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            yield

    return Starlette(
        routes=build_routes(settings),
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "PUT", "OPTIONS"],
                allow_headers=CORS_ALLOWED_HEADERS,
                expose_headers=["x-amzn-ErrorType", "x-amzn-RequestId"],
                max_age=600,
            )
        ],
        lifespan=lifespan,
    )
