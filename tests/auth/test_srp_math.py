"""The SRP constants and encodings that every Cognito client computes the same way (COGNITO.md section 3): a
server that differs in any of them refuses every correct password."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatserver.auth import srp


def test_k_is_cognitos() -> None:
    assert f"{srp.K:x}".startswith("538282c4354742d7")  # H(pad(N) | pad(g)), as amazon-cognito-identity-js


@pytest.mark.parametrize(
    ("value", "padded"),
    [(0x1, "01"), (0x7F, "7f"), (0x80, "0080"), (0xABC, "0abc"), (0x1234, "1234"), (0x8000, "008000")],
)
def test_pad_hex_is_cognitos(value: int, padded: str) -> None:
    assert srp.pad_hex(value) == padded


def test_pool_name_is_the_part_after_the_underscore() -> None:
    assert srp.pool_name("eu-west-1_Chat42") == "Chat42"
    assert srp.pool_name("local_chatserver") == "chatserver"


def test_timestamp_day_is_not_zero_padded() -> None:
    moment = datetime(2026, 9, 5, 9, 3, 7, tzinfo=UTC)
    assert srp.format_timestamp(moment) == "Sat Sep 5 09:03:07 UTC 2026"
    assert srp.parse_timestamp("Sat Sep 5 09:03:07 UTC 2026") == moment
    assert srp.parse_timestamp("Tue Dec 15 23:59:59 UTC 2026") == datetime(
        2026, 12, 15, 23, 59, 59, tzinfo=UTC
    )


def test_verifier_depends_on_pool_user_password_and_salt() -> None:
    base = srp.compute_verifier("chatserver", "alice", "Corr3ct-Horse!", salt=12345)
    assert base == srp.compute_verifier("chatserver", "alice", "Corr3ct-Horse!", salt=12345)
    for changed in (
        srp.compute_verifier("other", "alice", "Corr3ct-Horse!", salt=12345),
        srp.compute_verifier("chatserver", "bob", "Corr3ct-Horse!", salt=12345),
        srp.compute_verifier("chatserver", "alice", "Corr3ct-Horse?", salt=12345),
        srp.compute_verifier("chatserver", "alice", "Corr3ct-Horse!", salt=12346),
    ):
        assert changed.verifier != base.verifier
    assert 1 < base.verifier < srp.N


def test_powmod_matches_pythons_pow() -> None:
    b = srp.new_private_key()
    assert srp.powmod(srp.G, b, srp.N) == pow(srp.G, b, srp.N)
