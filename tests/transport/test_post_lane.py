"""`POST /graphql` is answered ahead of the middleware stack (transport/post_lane.py): what a client sees must be
what the stack gives every other request — CORS headers, the request id, the request counters, a plain 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import HTTP, Account, server_with_accounts
from tests.server import RunningServer

World = tuple[RunningServer, Account]
QUERY = "query Rooms { rooms { id } }"
# Headers whose values differ from one response to the next.
VARYING = {"date", "content-length", "x-amzn-requestid"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with server_with_accounts(tmp_path_factory.mktemp("lane") / "data", "alice") as (server, (alice,)):
        yield server, alice


def _ask(world: World, method: str, **headers: str) -> httpx.Response:
    """The query by POST (the lane) or GET (through the whole middleware stack), as alice."""
    server, alice = world
    query = {"json": {"query": QUERY}} if method == "POST" else {"params": {"query": QUERY}}
    return httpx.request(
        method,
        f"{server.url}/graphql",
        headers={"Authorization": alice.tokens.access_token, **headers},
        **query,  # type: ignore[arg-type]
        **HTTP,
    )


def _post(world: World, **headers: str) -> httpx.Response:
    return _ask(world, "POST", **headers)


def _stable_headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response.headers.multi_items() if name not in VARYING]


@pytest.mark.parametrize(
    "origin",
    [None, "http://localhost:3000", "http://evil.example"],
    ids=["no-origin", "allowed-origin", "other-origin"],
)
def test_post_lane_headers_match_the_middleware_stack(world: World, origin: str | None) -> None:
    headers = {"Origin": origin} if origin else {}
    posted, got = _post(world, **headers), _ask(world, "GET", **headers)
    assert posted.status_code == got.status_code == 200
    assert posted.json() == got.json()
    assert _stable_headers(posted) == _stable_headers(got)
    assert posted.headers["x-amzn-requestid"] != got.headers["x-amzn-requestid"]
    if origin == "http://localhost:3000":
        assert posted.headers["access-control-allow-origin"] == origin
        assert "x-amzn-RequestId" in posted.headers["access-control-expose-headers"]
    else:
        assert "access-control-allow-origin" not in posted.headers


def _post_count(server: RunningServer, status: str) -> float:
    text = httpx.get(f"{server.url}/metrics", **HTTP).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "chatserver_requests_total"
                and labels.get("route") == "/graphql"
                and labels.get("method") == "POST"
                and labels.get("status") == status
            ):
                return sample.value
    return 0.0


def test_post_lane_counts_each_request_by_status(world: World) -> None:
    server, _ = world
    ok_before, refused_before = _post_count(server, "200"), _post_count(server, "401")
    _post(world)
    _post(world)
    httpx.post(f"{server.url}/graphql", json={"query": QUERY}, **HTTP)  # no token
    assert _post_count(server, "200") == ok_before + 2
    assert _post_count(server, "401") == refused_before + 1


def test_post_lane_answers_an_unexpected_failure_with_a_plain_500(tmp_path: Path) -> None:
    with server_with_accounts(tmp_path / "data", "bob") as (server, (bob,)):
        executor: Any = server.app.state.services.executor
        real_execute = executor.execute

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug somewhere below the transport")

        executor.execute = broken
        try:
            response = _post((server, bob))
        finally:
            executor.execute = real_execute
        assert response.status_code == 500
        assert response.text == "Internal Server Error"
        assert "a bug somewhere" not in response.text
        assert _post_count(server, "500") == 1
        after = _post((server, bob))  # the server goes on answering
        assert after.status_code == 200 and "errors" not in after.json()
