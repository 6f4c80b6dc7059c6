"""Brokers for tests: the in-memory one and, when CHATSERVER_TEST_REDIS_URL is set, Redis with a unique prefix."""

from __future__ import annotations

import os
import uuid

import pytest

REDIS_ENV = "CHATSERVER_TEST_REDIS_URL"


def redis_url() -> str:
    return os.environ.get(REDIS_ENV, "").strip()


def unique_prefix() -> str:
    run_id = os.environ.get("CHATSERVER_TEST_RUN_ID", "") or "local"
    return f"chatserver-test:{run_id}:{uuid.uuid4().hex[:12]}"


def needs_redis() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not redis_url(), reason=f"set {REDIS_ENV} to run against Redis")


BROKER_KINDS = [
    pytest.param("memory", id="memory"),
    pytest.param("redis", id="redis", marks=needs_redis()),
]
