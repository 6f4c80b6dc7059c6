"""`chatserver user remove-from-group`: the membership goes (tokens minted afterwards lack the group), a second
run says the user was not in it, and an unknown user is a clear error."""

from __future__ import annotations

from pathlib import Path

from jose import jwt

from tests.test_cli import PASSWORD, chatserver


def test_cli_remove_from_group(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = chatserver(
        data,
        "user", "create", "gail", "--email", "gail@example.com", "--group", "admin", "--group", "staff",
        "--confirmed", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    removed = chatserver(data, "user", "remove-from-group", "gail", "staff")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("removed gail from group staff")
    token = chatserver(data, "token", "gail")
    assert jwt.get_unverified_claims(token.stdout.strip())["cognito:groups"] == ["admin"]

    again = chatserver(data, "user", "remove-from-group", "gail", "staff")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "gail was not in group staff"

    unknown = chatserver(data, "user", "remove-from-group", "nobody", "staff")
    assert unknown.returncode != 0
    assert "UserNotFoundException" in unknown.stderr
    assert "Traceback" not in unknown.stderr
