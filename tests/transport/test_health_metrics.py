"""/healthz, /readyz and /metrics on a real server, and the JSON log lines with their request id."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from chatserver.config import Settings
from chatserver.logs import configure_logging
from tests.realtime import live
from tests.server import RunningServer, run_server


def _samples(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_healthz_and_readyz_answer_ok(server: RunningServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_says_database_down_when_it_is(server: RunningServer) -> None:
    services = server.app.state.services
    broken = services.engine
    from chatserver.persistence.database import create_engine

    services.engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["down"] == ["database"]
    finally:
        services.engine = broken


def test_metrics_count_requests_errors_and_realtime(server: RunningServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        client.post("/graphql", json={"query": "{ __typename }"})
        client.post("/graphql", content=b"", headers={"content-type": "application/json"})
        samples = _samples(client)
    assert (
        samples[("chatserver_requests_total", (("method", "POST"), ("route", "/graphql"), ("status", "401")))]
        >= 1
    )
    assert samples[("chatserver_errors_total", (("error_type", "UnauthorizedException"),))] >= 1
    for name in (
        "chatserver_open_connections",
        "chatserver_live_subscriptions",
        "chatserver_deliveries_total",
        "chatserver_drops_total",
        "chatserver_slow_consumer_disconnects_total",
        "chatserver_publish_to_send_seconds_count",
    ):
        assert (name, ()) in samples, name
    assert samples[("chatserver_broker_up", ())] == 1


def test_metrics_registries_are_per_app(tmp_path: Path) -> None:
    with run_server(tmp_path / "a") as first, run_server(tmp_path / "b") as second:
        with httpx.Client(base_url=first.url, timeout=10) as client:
            for _ in range(3):
                client.get("/healthz")
        with httpx.Client(base_url=second.url, timeout=10) as client:
            samples = _samples(client)
    assert (
        "chatserver_requests_total",
        (("method", "GET"), ("route", "/healthz"), ("status", "200")),
    ) not in samples


def test_json_logs_one_object_per_line_with_request_id(server: RunningServer) -> None:
    from chatserver.persistence.database import create_engine

    stream = io.StringIO()
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    configure_logging(Settings(log_format="json", log_level="info"))
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    services = server.app.state.services
    engine = services.engine
    services.engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            unready = client.get("/readyz")  # logs why, inside the request
            assert unready.status_code == 503
        logging.getLogger("chatserver.test").info("outside any request")
    finally:
        services.engine = engine
        root.handlers[:] = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    (down,) = [line for line in lines if "database unreachable" in line["message"]]
    assert down["request_id"] == unready.headers["x-amzn-RequestId"]
    (outside,) = [line for line in lines if line["message"] == "outside any request"]
    assert "request_id" not in outside


def test_metrics_count_every_answered_error_even_for_cached_documents(server: RunningServer) -> None:
    token = live.sign_up(server, "metrics-counter")["accessToken"]
    too_deep = "{ " + "rooms { messages { items { content { " * 6 + "text" + " } } } }" * 6 + " }"
    label = ("chatserver_errors_total", (("error_type", "QueryDepthLimitReached"),))
    with httpx.Client(base_url=server.url, timeout=10, headers={"Authorization": token}) as client:
        before = _samples(client).get(label, 0)
        for _ in range(3):  # the first compiles the document, the next two are served from the cache
            body = client.post("/graphql", json={"query": too_deep}).json()
            assert body["errors"][0]["errorType"] == "QueryDepthLimitReached"
        assert _samples(client)[label] == before + 3
