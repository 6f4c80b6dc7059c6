"""The container files parse and agree with the README and Settings (no Docker engine runs here)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import yaml

from chatserver.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
SETTING_NAMES = {ENV_PREFIX + f.name.upper() for f in fields(Settings) if f.name != "extra"}
DEPLOY_ONLY = {"CHATSERVER_API_PUBLISH"}  # compose's own knob (where the api publishes), not a server setting


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env_names(text: str) -> set[str]:
    return set(re.findall(r"\bCHATSERVER_[A-Z0-9_]+", text))


def test_compose_default_runs_one_api_on_sqlite_with_a_named_volume() -> None:
    compose = _compose()
    api = compose["services"]["api"]
    assert "profiles" not in api
    assert api["command"] == ["chatserver", "serve"]
    assert api["environment"]["CHATSERVER_DATABASE_URL"] == "${CHATSERVER_DATABASE_URL:-}"  # empty: SQLite
    volume = api["volumes"][0].split(":")
    assert volume[1] == "/data" and volume[0] in compose["volumes"]
    assert api["environment"]["CHATSERVER_DATA_DIR"] == "/data"
    assert api["ports"] == ["${CHATSERVER_API_PUBLISH:-8000:8000}"]
    assert {name for name, s in compose["services"].items() if "profiles" not in s} == {"api"}


def test_compose_scale_profile_has_postgres_redis_and_a_balancer_on_8000() -> None:
    services = _compose()["services"]
    for name in ("postgres", "redis", "lb"):
        assert services[name]["profiles"] == ["scale"], name
    assert services["lb"]["ports"] == ["8000:8000"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["lb"]["volumes"]
    scale = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy/scale.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert scale["COMPOSE_PROFILES"] == "scale"
    assert (
        scale["CHATSERVER_DATABASE_URL"].startswith("postgresql://")
        and "@postgres:5432/" in scale["CHATSERVER_DATABASE_URL"]
    )
    assert scale["CHATSERVER_BROKER_URL"].startswith("redis://redis:6379")
    settings = Settings.from_env({k: v for k, v in scale.items() if k in SETTING_NAMES})
    assert settings.resolved_database_url.startswith("postgresql+asyncpg://")


def test_nginx_passes_websockets_to_every_api_replica() -> None:
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert conf.count("{") == conf.count("}")
    assert "listen 8000;" in conf and "server api:8000" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_http_version 1.1;" in conf


def test_tls_profile_fronts_with_caddy_internal_ca() -> None:
    tls = _compose()["services"]["tls"]
    assert tls["profiles"] == ["tls"] and "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in tls["volumes"]
    assert "local_certs" in (ROOT / "deploy/Caddyfile").read_text()


def test_dockerfile_runs_the_readme_command_as_non_root_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, re.M)
    assert 'CMD ["chatserver", "serve"]' in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert "pip install ." in dockerfile
    assert "CHATSERVER_HOST=0.0.0.0" in dockerfile and "CHATSERVER_DATA_DIR=/data" in dockerfile
    readme = (ROOT / "README.md").read_text()
    assert "chatserver serve" in readme


def test_deploy_files_name_only_real_settings_and_the_readme_documents_them() -> None:
    used = set()
    for path in ("Dockerfile", "docker-compose.yml", "deploy/scale.env"):
        used |= _env_names((ROOT / path).read_text())
    unknown = used - SETTING_NAMES - DEPLOY_ONLY
    assert not unknown, f"not Settings fields: {sorted(unknown)}"
    readme = (ROOT / "README.md").read_text()
    undocumented = {name for name in used - DEPLOY_ONLY if name not in readme}
    assert not undocumented, f"not in the README: {sorted(undocumented)}"
