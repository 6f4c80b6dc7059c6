"""The `chatserver` command: serve, migrate, user, room, token, schema."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import getpass
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from chatserver import __version__
from chatserver.config import Settings, SettingsError

T = TypeVar("T")

EXIT_USAGE = 2
EXIT_FAILED = 1


class CommandError(Exception):
    """A failure to report as one line on stderr (exit code 1)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        settings = Settings.from_env(
            **{k: v for k, v in vars(args).items() if k in _SETTING_FLAGS and v is not None}
        )
        return args.handler(args, settings) or 0
    except SettingsError as error:
        print(f"chatserver: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CommandError as error:
        print(f"chatserver: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


_SETTING_FLAGS = {"host", "port", "data_dir"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatserver",
        description="Self-hosted, AppSync-compatible GraphQL server for real-time chat.",
        epilog="Settings come from CHATSERVER_* environment variables (see the README).",
    )
    parser.add_argument("--version", action="version", version=f"chatserver {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server (migrates the database first)")
    serve.add_argument("--host", help="listen address (CHATSERVER_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (CHATSERVER_PORT, default 8000)")
    serve.add_argument("--data-dir", type=Path, help="data directory (CHATSERVER_DATA_DIR, default ./data)")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--data-dir", type=Path, help="data directory (CHATSERVER_DATA_DIR)")
    migrate.set_defaults(handler=_migrate)

    user = commands.add_parser("user", help="manage users").add_subparsers(
        title="user commands", metavar="ACTION"
    )
    create = user.add_parser("create", help="create a user (password prompted or from --password-stdin)")
    create.add_argument("username")
    create.add_argument("--email", required=True)
    create.add_argument("--given-name")
    create.add_argument("--family-name")
    create.add_argument(
        "--group", action="append", default=[], help="add to this group (repeatable), e.g. admin"
    )
    create.add_argument("--confirmed", action="store_true", help="confirm now instead of sending a code")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.add_argument(
        "--temporary-password",
        action="store_true",
        help="the user must choose a new password at first sign-in (Cognito's NEW_PASSWORD_REQUIRED); the "
        "temporary one comes from --password-stdin, or is generated and printed",
    )
    create.add_argument("--data-dir", type=Path)
    create.set_defaults(handler=_user_create)
    add = user.add_parser("add-to-group", help="add a user to a group, e.g. admin")
    add.add_argument("username")
    add.add_argument("group")
    add.add_argument("--data-dir", type=Path)
    add.set_defaults(handler=_user_add_to_group)
    remove = user.add_parser(
        "remove-from-group", help="take a user out of a group; ends their live subscriptions that needed it"
    )
    remove.add_argument("username")
    remove.add_argument("group")
    remove.add_argument("--data-dir", type=Path)
    remove.set_defaults(handler=_user_remove_from_group)

    room = commands.add_parser("room", help="manage rooms").add_subparsers(
        title="room commands", metavar="ACTION"
    )
    room_create = room.add_parser("create", help="create a room (the walkie-talkie app's rooms are seeded)")
    room_create.add_argument("name")
    room_create.add_argument("--id", dest="room_id", help="the room id (default: a new UUID)")
    room_create.add_argument("--data-dir", type=Path)
    room_create.set_defaults(handler=_room_create)

    pool = commands.add_parser(
        "pool", help="print what a Cognito client needs: user pool id, app client id, endpoint, issuer"
    )
    pool.set_defaults(handler=_pool)

    token = commands.add_parser("token", help="print an access token for USERNAME (for the playground)")
    token.add_argument("username")
    token.add_argument("--data-dir", type=Path)
    token.set_defaults(handler=_token)

    api_key = commands.add_parser("api-key", help="manage API keys (the API_KEY auth mode)").add_subparsers(
        title="api-key commands", metavar="ACTION"
    )
    key_create = api_key.add_parser("create", help="create a key and print it (shown only this once)")
    key_create.add_argument(
        "--expires-in", type=int, metavar="DAYS", help="days until it expires (default 7, at most 365)"
    )
    key_create.add_argument("--description", help="what the key is for")
    key_create.add_argument("--data-dir", type=Path)
    key_create.set_defaults(handler=_api_key_create)
    key_list = api_key.add_parser("list", help="list keys: id, description, expiry, last used")
    key_list.add_argument("--data-dir", type=Path)
    key_list.set_defaults(handler=_api_key_list)
    key_delete = api_key.add_parser("delete", help="delete a key: refused everywhere within seconds")
    key_delete.add_argument("key_id", metavar="ID")
    key_delete.add_argument("--data-dir", type=Path)
    key_delete.set_defaults(handler=_api_key_delete)

    schema = commands.add_parser("schema", help="the GraphQL schema").add_subparsers(
        title="schema commands", metavar="ACTION"
    )
    export = schema.add_parser("export", help="print the schema (SDL) to stdout")
    export.add_argument("--output", type=Path, help="write to this file instead")
    export.set_defaults(handler=_schema_export)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from chatserver.app import create_app
    from chatserver.logs import configure_logging

    configure_logging(settings)
    from chatserver.heap import tune_for_serving
    from chatserver.transport.websocket import draining_server_class
    from chatserver.transport.ws_frames import FramingWebSocketProtocol

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws=FramingWebSocketProtocol,  # uvicorn's own, plus pre-framed subscription writes
        ws_per_message_deflate=False,  # deflate costs 5x fan-out throughput and ~33 KB per connection
        ws_max_size=settings.max_body_bytes,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        ssl_certfile=settings.tls_certfile or None,
        ssl_keyfile=settings.tls_keyfile or None,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        lifespan="on",
    )
    # Closes every WebSocket with 1001 after draining, before uvicorn's own shutdown (which would use 1012).
    draining_server_class(after_startup=tune_for_serving)(config).run()
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from chatserver.persistence.database import migrate_blocking
    from chatserver.secrets import make_private_dir

    make_private_dir(settings.data_dir)
    revision = migrate_blocking(settings.resolved_database_url)
    print(f"database is at revision {revision}")
    return 0


def _user_create(args: argparse.Namespace, settings: Settings) -> int:
    from chatserver.auth.passwords import generate_temporary_password

    generated = args.temporary_password and not args.password_stdin
    password = generate_temporary_password() if generated else _read_password(args.password_stdin)

    async def create(services: Any) -> str:
        record = await services.accounts.create_user(
            args.username,
            password,
            args.email,
            given_name=args.given_name,
            family_name=args.family_name,
            groups=args.group,
            confirmed=args.confirmed,
            temporary=args.temporary_password,
        )
        return record.sub

    sub = _with_services(settings, create)
    if args.temporary_password:
        state = "must choose a new password at first sign-in"
    elif args.confirmed:
        state = "confirmed"
    else:
        state = "unconfirmed: the confirmation code is in the server log"
    groups = f", groups: {', '.join(args.group)}" if args.group else ""
    print(f"created user {args.username} (sub {sub}, {state}{groups})")
    if generated:
        print(f"temporary password: {password}")
    return 0


def _user_remove_from_group(args: argparse.Namespace, settings: Settings) -> int:
    async def remove(services: Any) -> bool:
        return await services.groups.remove(args.username, args.group)

    removed = _with_services(settings, remove)
    if not removed:
        print(f"{args.username} was not in group {args.group}")
        return 0
    print(
        f"removed {args.username} from group {args.group}; subscriptions that needed it end on every server "
        "sharing this broker (Redis), tokens issued before now no longer count it there"
    )
    return 0


def _user_add_to_group(args: argparse.Namespace, settings: Settings) -> int:
    async def add(services: Any) -> None:
        await services.accounts.add_to_group(args.username, args.group)

    _with_services(settings, add)
    print(f"added {args.username} to group {args.group}; new tokens carry it (sign in again)")
    return 0


def _room_create(args: argparse.Namespace, settings: Settings) -> int:
    from chatserver.persistence.rooms import RoomExists

    room_id = args.room_id or str(uuid.uuid4())
    if not args.name.strip():
        raise CommandError("a room needs a name")

    async def create(services: Any) -> None:
        try:
            await services.rooms.create(room_id=room_id, name=args.name.strip(), owner=None)
        except RoomExists:
            raise CommandError(f"a room with id {room_id} already exists") from None

    _with_services(settings, create)
    print(room_id)
    return 0


def _pool(args: argparse.Namespace, settings: Settings) -> int:
    """The settings a Cognito client (Amplify Auth, amazon-cognito-identity-js, boto3) is configured with."""
    print(f"user pool id:  {settings.user_pool_id}")
    print(f"app client id: {settings.client_id}")
    print(f"endpoint:      {settings.resolved_public_url}/")
    print(f"issuer:        {settings.issuer}")
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    async def mint(services: Any) -> str:
        return await services.accounts.mint_access_token(args.username)

    print(_with_services(settings, mint))
    return 0


def _api_key_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create(keys: Any) -> Any:
        return await keys.create(expires_in_days=args.expires_in, description=args.description)

    created = _with_api_keys(settings, create)
    print(created.key)
    print(
        f"id {created.record.id}, expires {_utc(created.record.expires_at)}; the key is not shown again",
        file=sys.stderr,
    )
    if "API_KEY" not in settings.auth_modes:
        print(
            "note: the server refuses API keys until API_KEY is enabled: "
            "set CHATSERVER_ADDITIONAL_AUTH_MODES=API_KEY (or CHATSERVER_DEFAULT_AUTH_MODE=API_KEY)",
            file=sys.stderr,
        )
    return 0


def _api_key_list(args: argparse.Namespace, settings: Settings) -> int:
    async def read(keys: Any) -> Any:
        return await keys.list()

    records = _with_api_keys(settings, read)
    print(f"{'ID':<16}  {'EXPIRES (UTC)':<20}  {'LAST USED (UTC)':<20}  DESCRIPTION")
    for record in records:
        expires = _utc(record.expires_at) + (" (expired)" if record.expires_at <= time.time() else "")
        last_used = _utc(record.last_used_at) if record.last_used_at else "never"
        print(f"{record.id:<16}  {expires:<20}  {last_used:<20}  {record.description or ''}")
    return 0


def _api_key_delete(args: argparse.Namespace, settings: Settings) -> int:
    async def delete(keys: Any) -> None:
        await keys.delete(args.key_id)

    _with_api_keys(settings, delete)
    print(f"deleted API key {args.key_id}; running servers refuse it within a few seconds")
    return 0


def _utc(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _with_api_keys(settings: Settings, action: Callable[[Any], Awaitable[T]]) -> T:
    """Open only the database and the data directory's secret, run one API-key action; its errors become
    CommandErrors."""
    from chatserver.auth.api_keys import ApiKeyError, ApiKeyService
    from chatserver.persistence.api_keys import ApiKeysRepository
    from chatserver.persistence.database import create_engine, migrate
    from chatserver.secrets import derive_key, load_or_create_secret

    async def run() -> T:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url)
        try:
            await migrate(engine)
            secret = load_or_create_secret(settings.data_dir / "url-signing-secret")
            keys = ApiKeyService(ApiKeysRepository(engine), derive_key(secret, "api-keys"))
            try:
                return await action(keys)
            except ApiKeyError as error:
                raise CommandError(str(error)) from None
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _schema_export(args: argparse.Namespace, settings: Settings) -> int:
    from chatserver.schema import export_sdl

    sdl = export_sdl()
    if args.output:
        args.output.write_text(sdl)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(sdl)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise CommandError("the passwords do not match")
    else:
        raise CommandError(
            "no terminal to prompt for a password: pipe it in with --password-stdin, "
            "or let --temporary-password make one"
        )
    if not password:
        raise CommandError("the password is empty")
    return password


def _with_services(settings: Settings, action: Callable[[Any], Awaitable[T]]) -> T:
    """Open the data directory's services, run one action, close them; auth errors become CommandErrors."""
    from chatserver.app import open_services
    from chatserver.auth.errors import AuthError

    async def run() -> T:
        async with open_services(settings) as services:
            try:
                return await action(services)
            except AuthError as error:
                raise CommandError(f"{error.type_name}: {error.message}") from None

    return asyncio.run(run())
