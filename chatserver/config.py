"""Settings: every knob is a CHATSERVER_* environment variable with a default that runs on one machine."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "CHATSERVER_"
USER_POOL_ID = re.compile(r"[\w-]+_[0-9a-zA-Z]+")  # what amazon-cognito-identity-js accepts


class SettingsError(ValueError):
    """A CHATSERVER_* variable has a value that cannot be used."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be true or false, not {raw!r}")


def _parse_int(name: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()} must not be negative, not {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of a running server. Build with `Settings.from_env()` or directly in tests."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./data")
    database_url: str = ""  # empty: SQLite file in data_dir
    broker_url: str = "memory://"
    broker_prefix: str = "chatserver"  # Redis channel prefix, so test runs and deployments do not mix
    public_url: str = ""  # empty: http://HOST:PORT
    cors_origins: tuple[str, ...] = ("http://localhost:3000",)
    trusted_proxies: str = (
        "127.0.0.1"  # whose X-Forwarded-For is believed (client address for sign-in throttling)
    )
    auto_confirm: bool = False
    id_token_ttl: int = 3600
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 2_592_000
    code_ttl: int = 86_400
    revocation_sync_interval: int = 10  # seconds between reads of recent sign-outs made on other replicas
    url_ttl: int = 900
    mqtt_url_ttl: int = 300  # seconds an MQTT URL from the subscription handshake may be used to connect
    ka_interval: int = 60
    connection_timeout_ms: int = 300_000
    connection_init_timeout: int = 10
    max_connection_age: int = 86_400
    max_body_bytes: int = 1_048_576  # also the largest WebSocket frame accepted
    max_depth: int = 20
    max_aliases: int = 30
    max_list_items: int = 20_000  # list items one request may read: the sum of its lists' limits
    max_tokens: int = 5_000
    execution_timeout: int = 30
    fast_path: bool = True  # queries run from compiled plans (execution/fast_path.py); false: graphql-core
    max_upload_bytes: int = 10_485_760
    file_sweep_interval: int = 300  # seconds between sweeps of orphaned and expired uploads
    max_text_bytes: int = 4096
    max_audio_bytes: int = 240 * 1024
    max_subscriptions_per_connection: int = 100
    max_outgoing_bytes: int = 4 * 1024 * 1024  # per connection, before a slow consumer is dropped
    introspection: bool = True
    password_min_length: int = 8
    signin_max_failures: int = 5  # failures per user or address before refusing
    signin_lockout_seconds: int = 300
    tls_certfile: str = ""
    tls_keyfile: str = ""
    jwt_private_key_file: str = ""  # empty: <data_dir>/jwt-signing-key.pem
    client_id: str = "chatserver"
    user_pool_id: str = "local_chatserver"  # Cognito's shape <region>_<name>; the issuer is <public URL>/<id>
    default_auth_mode: str = "USER_POOL"  # USER_POOL | API_KEY | OPENID_CONNECT (SPEC section 13)
    additional_auth_modes: tuple[str, ...] = ()
    oidc_issuer: str = ""  # https://... (http:// on loopback only); discovery at <issuer>/.well-known/...
    oidc_client_id: str = ""  # checked against `aud` (ID tokens) or `client_id` (access tokens)
    oidc_groups_claim: str = "cognito:groups"
    api_key_refresh_interval: int = 5  # seconds between reads of the API keys table (other replicas)
    smtp_url: str = ""  # smtp://user:pass@host:port?from=addr ; empty: codes go to the log
    log_level: str = "info"
    log_format: str = "text"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read CHATSERVER_* variables; keyword overrides (e.g. from CLI flags) win over the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def validate(self) -> None:
        if self.log_format not in {"text", "json"}:
            raise SettingsError(f"{ENV_PREFIX}LOG_FORMAT must be text or json, not {self.log_format!r}")
        if bool(self.tls_certfile) != bool(self.tls_keyfile):
            raise SettingsError(f"{ENV_PREFIX}TLS_CERTFILE and {ENV_PREFIX}TLS_KEYFILE must be set together")
        if not USER_POOL_ID.fullmatch(self.user_pool_id):
            raise SettingsError(
                f"{ENV_PREFIX}USER_POOL_ID must look like region_name (letters and digits after the '_'),"
                f" not {self.user_pool_id!r}"
            )
        if not (self.broker_url.startswith("memory://") or self.broker_url.startswith("redis")):
            raise SettingsError(
                f"{ENV_PREFIX}BROKER_URL must be memory:// or redis://..., not {self.broker_url!r}"
            )
        self._validate_auth_modes()

    def _validate_auth_modes(self) -> None:
        from chatserver.auth.modes import AuthMode, parse_mode
        from chatserver.auth.oidc import issuer_problem

        try:
            parse_mode(self.default_auth_mode)
        except ValueError as error:
            raise SettingsError(f"{ENV_PREFIX}DEFAULT_AUTH_MODE: {error}") from None
        for name in self.additional_auth_modes:
            try:
                parse_mode(name)
            except ValueError as error:
                raise SettingsError(f"{ENV_PREFIX}ADDITIONAL_AUTH_MODES: {error}") from None
        if AuthMode.OPENID_CONNECT.value in self.auth_modes:
            if not self.oidc_issuer or not self.oidc_client_id:
                raise SettingsError(
                    f"OPENID_CONNECT needs {ENV_PREFIX}OIDC_ISSUER (e.g. https://cognito-idp.<region>"
                    f".amazonaws.com/<poolId>) and {ENV_PREFIX}OIDC_CLIENT_ID (the app client id)"
                )
            problem = issuer_problem(self.oidc_issuer)
            if problem:
                raise SettingsError(f"{ENV_PREFIX}OIDC_ISSUER {self.oidc_issuer!r}: {problem}")
            if not self.oidc_groups_claim.strip():
                raise SettingsError(f"{ENV_PREFIX}OIDC_GROUPS_CLAIM must name a claim")
        if self.api_key_refresh_interval < 1:
            raise SettingsError(f"{ENV_PREFIX}API_KEY_REFRESH_INTERVAL must be at least 1 second")

    @property
    def auth_mode(self) -> str:
        """The default mode's canonical name."""
        from chatserver.auth.modes import parse_mode

        return parse_mode(self.default_auth_mode).value

    @property
    def auth_modes(self) -> frozenset[str]:
        """Every enabled mode's canonical name: the default and the additional ones."""
        from chatserver.auth.modes import parse_mode

        names = (self.default_auth_mode, *self.additional_auth_modes)
        return frozenset(parse_mode(name).value for name in names)

    @property
    def resolved_database_url(self) -> str:
        """SQLAlchemy async URL: the SQLite file in the data directory unless DATABASE_URL is set."""
        url = self.database_url
        if not url:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'chatserver.db').resolve()}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            return "postgresql+asyncpg://" + url.split("://", 1)[1]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url

    @property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "https" if self.tls_certfile else "http"
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def issuer(self) -> str:
        """As on Cognito: the pool id under the public URL."""
        return f"{self.resolved_public_url}/{self.user_pool_id}"

    @property
    def jwt_key_path(self) -> Path:
        return (
            Path(self.jwt_private_key_file)
            if self.jwt_private_key_file
            else self.data_dir / "jwt-signing-key.pem"
        )


def _convert(name: str, annotation: Any, raw: str) -> Any:
    kind = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "str")
    if kind == "bool":
        return _parse_bool(name, raw)
    if kind == "int":
        return _parse_int(name, raw)
    if kind == "Path":
        return Path(raw)
    if kind.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw
