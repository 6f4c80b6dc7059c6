"""The `chatserver` command: serve, migrate, user, room, token, schema."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
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

    token = commands.add_parser("token", help="print an access token for USERNAME (for the playground)")
    token.add_argument("username")
    token.add_argument("--data-dir", type=Path)
    token.set_defaults(handler=_token)

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
    from chatserver.transport.websocket import draining_server_class

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
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
    draining_server_class()(config).run()
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from chatserver.persistence.database import migrate_blocking
    from chatserver.secrets import make_private_dir

    make_private_dir(settings.data_dir)
    revision = migrate_blocking(settings.resolved_database_url)
    print(f"database is at revision {revision}")
    return 0


def _user_create(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)

    async def create(services: Any) -> str:
        record = await services.accounts.create_user(
            args.username,
            password,
            args.email,
            given_name=args.given_name,
            family_name=args.family_name,
            groups=args.group,
            confirmed=args.confirmed,
        )
        return record.sub

    sub = _with_services(settings, create)
    state = "confirmed" if args.confirmed else "unconfirmed: the confirmation code is in the server log"
    groups = f", groups: {', '.join(args.group)}" if args.group else ""
    print(f"created user {args.username} (sub {sub}, {state}{groups})")
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


def _token(args: argparse.Namespace, settings: Settings) -> int:
    async def mint(services: Any) -> str:
        return await services.accounts.mint_access_token(args.username)

    print(_with_services(settings, mint))
    return 0


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
        raise CommandError("no terminal to prompt for a password: pipe it in with --password-stdin")
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
