"""The one place that wires concrete parts together: `create_app(settings)` builds everything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from chatserver.auth.accounts import AccountService
from chatserver.auth.codes import build_code_sender
from chatserver.auth.group_admin import GroupAdmin
from chatserver.auth.keys import SigningKeys
from chatserver.auth.modes import AuthMode, CredentialResolver
from chatserver.auth.revocation_sync import RevocationSync
from chatserver.auth.revocations import Revocations
from chatserver.auth.signout_feed import SignoutFeed
from chatserver.auth.tokens import TokenIssuer, TokenVerifier
from chatserver.config import Settings
from chatserver.execution.executor import Executor
from chatserver.metrics import ServerMetrics
from chatserver.persistence.accounts import AccountsRepository
from chatserver.persistence.database import create_engine, migrate, sqlite_path
from chatserver.persistence.files import FilesRepository
from chatserver.persistence.messages import MessagesRepository
from chatserver.persistence.pagination import PageTokens
from chatserver.persistence.rooms import RoomsRepository
from chatserver.persistence.sqlite_direct import SqliteDirect
from chatserver.persistence.users import UsersRepository
from chatserver.schema import build_schema
from chatserver.schema.permissions import AuthRules
from chatserver.secrets import derive_key, load_or_create_secret, make_private_dir
from chatserver.services import Services
from chatserver.storage.local import LocalDirectoryStore
from chatserver.storage.service import FileService
from chatserver.storage.signing import UrlSigner
from chatserver.transport.post_lane import GraphQLPostLane
from chatserver.transport.post_lane import takes as takes_graphql_post
from chatserver.transport.state import AppServices

if TYPE_CHECKING:
    import strawberry
    from sqlalchemy.ext.asyncio import AsyncEngine

    from chatserver.auth.api_keys import ApiKeyService
    from chatserver.auth.oidc import OidcVerifier
    from chatserver.realtime.engine import RealtimeEngine

log = logging.getLogger("chatserver")

CORS_ALLOWED_HEADERS = [
    "authorization",
    "content-type",
    "x-amz-user-agent",
    "x-api-key",
    "x-amz-date",
    # what Amplify Auth and amazon-cognito-identity-js send to the Cognito API (POST /)
    "x-amz-target",
    "cache-control",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
]


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, metrics: ServerMetrics | None = None
) -> AsyncIterator[AppServices]:
    """Open database, auth, broker and engine in order; close them in reverse."""
    make_private_dir(settings.data_dir)
    engine = create_engine(settings.resolved_database_url)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        revision = await migrate(engine)
        log.info("database ready at revision %s", revision)
        secret = load_or_create_secret(settings.data_dir / "url-signing-secret")
        # One stored secret, one derived key per use, so a MAC made for one purpose never passes for another.
        page_token_key, url_key = derive_key(secret, "page-tokens"), derive_key(secret, "presigned-urls")
        users = UsersRepository(engine)
        # --- auth (chatserver/auth) ---
        keys = await asyncio.to_thread(SigningKeys.load_or_create, settings.jwt_key_path)
        account_store = AccountsRepository(engine)
        revocations = Revocations(await account_store.revocations())
        verifier = TokenVerifier(keys, revocations, issuer=settings.issuer, client_id=settings.client_id)
        accounts = AccountService(
            settings=settings,
            store=account_store,
            users=users,
            issuer=TokenIssuer(
                keys,
                issuer=settings.issuer,
                client_id=settings.client_id,
                id_token_ttl=settings.id_token_ttl,
                access_token_ttl=settings.access_token_ttl,
            ),
            verifier=verifier,
            revocations=revocations,
            code_secret=load_or_create_secret(settings.data_dir / "code-secret"),
            handshake_secret=secret,
            sender=build_code_sender(settings.smtp_url),
        )
        # --- rooms, messages, files ---
        # SQLite: the hottest statements (room listings, new messages) bypass SQLAlchemy, one thread hop each.
        path = sqlite_path(settings.resolved_database_url)
        direct = SqliteDirect(path) if path is not None else None
        if direct is not None:
            stack.callback(direct.close)
        messages = await stack.enter_async_context(MessagesRepository(engine, direct).running())
        signer = UrlSigner(url_key)
        store = LocalDirectoryStore(settings.data_dir / "files", settings.resolved_public_url, signer)
        files = await stack.enter_async_context(
            FileService(
                settings=settings, repository=FilesRepository(engine), store=store, signer=signer
            ).running()
        )
        # --- schema and realtime engine (one schema object for both) ---
        schema = build_schema()
        realtime = await _open_realtime(settings, schema, metrics, stack)
        groups = GroupAdmin(account_store)
        await _end_sessions_on_signout(
            settings, stack, accounts, groups, account_store, revocations, realtime
        )
        # --- auth modes (SPEC section 13): one credential resolver for every transport ---
        api_keys, oidc = await _open_auth_modes(
            settings, engine, realtime, stack, derive_key(secret, "api-keys")
        )
        credentials = CredentialResolver(
            default_mode=AuthMode(settings.auth_mode),
            modes=frozenset(AuthMode(name) for name in settings.auth_modes),
            user_pool=verifier,
            user_pool_issuer=settings.issuer,
            api_keys=api_keys,
            oidc=oidc,
        )
        services = Services(
            settings=settings,
            engine=engine,
            page_tokens=PageTokens(page_token_key),
            users=users,
            rooms=RoomsRepository(engine, direct),
            messages=messages,
            accounts=accounts,
            verifier=verifier,
            keys=keys,
            files=files,
            realtime=realtime,
            schema=schema,
            groups=groups,
            credentials=credentials,
            api_keys=api_keys,
            oidc=oidc,
        )
        # --- executor: every transport's one execution path; it publishes to the real-time engine ---
        auth_rules = AuthRules(schema, settings.auth_mode)
        executor = Executor(schema, services, realtime, auth_rules)
        # --- legacy subscriptions over MQTT: the handshake's signed URLs (a key of their own) ---
        from chatserver.transport.mqtt.grants import GrantSigner

        mqtt_grants = GrantSigner(derive_key(secret, "mqtt-urls"), settings.mqtt_url_ttl)
        yield AppServices.around(services, executor=executor, auth_rules=auth_rules, mqtt_grants=mqtt_grants)


async def _open_realtime(
    settings: Settings,
    schema: strawberry.Schema,
    metrics: ServerMetrics | None,
    stack: contextlib.AsyncExitStack,
) -> RealtimeEngine:
    """The engine over the configured broker, started; it stops (closing every socket with 1001) with the stack."""
    from chatserver.realtime.broker import create_broker
    from chatserver.realtime.engine import RealtimeEngine
    from chatserver.schema.links import subscription_links

    realtime = RealtimeEngine(
        schema=schema._schema,
        links=subscription_links(schema),
        broker=create_broker(settings.broker_url, settings.broker_prefix),
        max_payload_bytes=settings.max_audio_bytes,
    )
    if metrics is not None:  # /metrics reads the engine's counters; the broker wrapper times fan-out
        metrics.realtime = realtime.metrics
        realtime.broker = metrics.instrument(realtime.broker)
    await realtime.start()
    stack.push_async_callback(realtime.stop)  # closes every socket with 1001 after draining
    return realtime


async def _end_sessions_on_signout(
    settings: Settings,
    stack: contextlib.AsyncExitStack,
    accounts: AccountService,
    groups: GroupAdmin,
    account_store: AccountsRepository,
    revocations: Revocations,
    realtime: RealtimeEngine,
) -> None:
    """Sign-outs and group removals end the live subscriptions they concern, on this and every other replica."""
    accounts.signout_listeners.append(realtime.disconnect_user)
    # A group removal ends, on every replica, the subscriptions that needed the group.
    groups.removal_listeners.append(realtime.end_group_subscriptions)
    if SignoutFeed.supported(realtime.broker):  # scale-out: sign-outs reach every replica
        feed = SignoutFeed(realtime.broker, revocations, realtime.disconnect_user)
        feed.start()
        stack.push_async_callback(feed.stop)
        accounts.signout_listeners.append(feed.announce)
    # Sign-out notices are at-most-once; the accounts table is the truth, read again every few seconds.
    await stack.enter_async_context(
        RevocationSync(
            account_store,
            revocations,
            realtime.disconnect_user,
            interval=settings.revocation_sync_interval,
            token_lifetime=max(settings.id_token_ttl, settings.access_token_ttl),
        ).running()
    )


async def _open_auth_modes(
    settings: Settings,
    engine: AsyncEngine,
    realtime: RealtimeEngine,
    stack: contextlib.AsyncExitStack,
    api_key_secret: bytes,
) -> tuple[ApiKeyService | None, OidcVerifier | None]:
    """The API-key cache and the OIDC key fetcher, each only when its mode is enabled."""
    modes = frozenset(AuthMode(name) for name in settings.auth_modes)
    api_keys: ApiKeyService | None = None
    oidc: OidcVerifier | None = None
    if AuthMode.API_KEY in modes:
        from chatserver.auth.api_keys import ApiKeyService
        from chatserver.persistence.api_keys import ApiKeysRepository

        service = ApiKeyService(
            ApiKeysRepository(engine),
            api_key_secret,
            refresh_interval=settings.api_key_refresh_interval,
            disconnect=realtime.disconnect_user,
        )
        api_keys = await stack.enter_async_context(service.running())
    if AuthMode.OPENID_CONNECT in modes:
        from chatserver.auth.oidc import OidcVerifier

        verifier = OidcVerifier(
            settings.oidc_issuer, settings.oidc_client_id, groups_claim=settings.oidc_groups_claim
        )
        oidc = await stack.enter_async_context(verifier.running())
    return api_keys, oidc


class ChatServerApp(Starlette):
    """Starlette, with `POST /graphql` answered ahead of the middleware stack (transport/post_lane.py)."""

    graphql_post_lane: GraphQLPostLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.graphql_post_lane is not None and takes_graphql_post(scope):
            scope["app"] = self
            await self.graphql_post_lane(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> ChatServerApp:
    """Build the ASGI app; the lifespan opens the services."""
    from chatserver.transport.health import RequestCounters, RequestObserver
    from chatserver.transport.routes import build_routes

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, metrics) as services:
            app.state.services = services
            log.info(
                "chatserver ready: open %s/ in a browser (the playground is at %s/graphql), data in %s",
                settings.resolved_public_url,
                settings.resolved_public_url,
                settings.data_dir.resolve(),
            )
            log.info(
                "Cognito user pool: id %s, app client id %s, endpoint %s/ (issuer %s)",
                settings.user_pool_id,
                settings.client_id,
                settings.resolved_public_url,
                settings.issuer,
            )
            yield

    metrics = ServerMetrics()
    counters = RequestCounters(metrics)
    cors_options: dict[str, Any] = {
        "allow_origins": list(settings.cors_origins),
        "allow_methods": ["GET", "POST", "PUT", "OPTIONS"],
        "allow_headers": CORS_ALLOWED_HEADERS,
        "expose_headers": ["x-amzn-ErrorType", "x-amzn-RequestId"],
        "max_age": 600,
    }
    app = ChatServerApp(
        routes=build_routes(settings),
        middleware=[
            Middleware(RequestObserver, metrics=metrics, counters=counters),
            Middleware(CORSMiddleware, **cors_options),
        ],
        lifespan=lifespan,
    )
    # The lane's CORS headers come from a CORSMiddleware configured as the stack's (it never calls its app).
    app.graphql_post_lane = GraphQLPostLane(metrics, counters, CORSMiddleware(app, **cors_options))
    app.state.metrics = metrics
    return app
