"""The auth-mode settings: clear errors for values that cannot work, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatserver.config import Settings, SettingsError
from tests.test_cli import chatserver


def _settings(**env: str) -> Settings:
    return Settings.from_env({f"CHATSERVER_{k.upper()}": v for k, v in env.items()})


def test_auth_mode_defaults_are_the_built_in_pool_only() -> None:
    settings = _settings()
    assert settings.auth_mode == "USER_POOL"
    assert settings.auth_modes == frozenset({"USER_POOL"})


def test_auth_mode_names_are_read_case_insensitively_with_appsync_spellings() -> None:
    settings = _settings(
        default_auth_mode="amazon_cognito_user_pools",
        additional_auth_modes="api_key, OPENID_CONNECT",
        oidc_issuer="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
        oidc_client_id="abc",
    )
    assert settings.auth_mode == "USER_POOL"
    assert settings.auth_modes == frozenset({"USER_POOL", "API_KEY", "OPENID_CONNECT"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"default_auth_mode": "AWS_IAM"}, "CHATSERVER_DEFAULT_AUTH_MODE: 'AWS_IAM' is not an auth mode"),
        (
            {"additional_auth_modes": "API_KEY,LAMBDA"},
            "CHATSERVER_ADDITIONAL_AUTH_MODES: 'LAMBDA' is not an auth mode",
        ),
        ({"additional_auth_modes": "OPENID_CONNECT"}, "OPENID_CONNECT needs CHATSERVER_OIDC_ISSUER"),
        (
            {
                "default_auth_mode": "OPENID_CONNECT",
                "oidc_issuer": "http://idp.example.com",
                "oidc_client_id": "a",
            },
            "plain http:// is only allowed on a loopback address",
        ),
        (
            {"default_auth_mode": "OPENID_CONNECT", "oidc_issuer": "idp.example.com", "oidc_client_id": "a"},
            "must be an https:// URL",
        ),
        ({"api_key_refresh_interval": "0"}, "CHATSERVER_API_KEY_REFRESH_INTERVAL must be at least 1 second"),
    ],
)
def test_auth_mode_settings_that_cannot_work_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        _settings(**env)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    "issuer", ["http://127.0.0.1:9000/pool", "http://[::1]:9000", "http://localhost:8080/realms/x"]
)
def test_auth_mode_plain_http_issuer_is_accepted_on_loopback(issuer: str) -> None:
    settings = _settings(default_auth_mode="OPENID_CONNECT", oidc_issuer=issuer, oidc_client_id="a")
    assert settings.auth_modes == frozenset({"OPENID_CONNECT"})


def test_auth_mode_serve_exits_with_the_configuration_error(tmp_path: Path) -> None:
    result = chatserver(tmp_path / "data", "serve", env={"CHATSERVER_DEFAULT_AUTH_MODE": "API_KEYS"})
    assert result.returncode == 2
    assert (
        "configuration error: CHATSERVER_DEFAULT_AUTH_MODE: 'API_KEYS' is not an auth mode" in result.stderr
    )
