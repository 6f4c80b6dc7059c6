"""SqliteDirect's reads: batched onto reader threads, each statement answered to its own caller."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select, text

from chatserver.persistence import sqlite_direct
from chatserver.persistence.sqlite_direct import SqliteDirect

_metadata = MetaData()
_numbers = Table("numbers", _metadata, Column("n", Integer, primary_key=True), Column("name", String))
_missing = Table("missing", _metadata, Column("n", Integer))

_BY_N = select(_numbers).where(_numbers.c.n == bindparam("n", type_=Integer))
_FROM_MISSING = select(_missing)
# A read that takes a while (a few hundred thousand rows counted), for what waits behind it.
_SLOW = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c"
)
_COUNT = 300


@pytest.fixture
def direct(tmp_path: Path) -> Iterator[SqliteDirect]:
    path = str(tmp_path / "numbers.db")
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany("INSERT INTO numbers VALUES (?, ?)", [(n, f"n{n}") for n in range(_COUNT)])
    direct = SqliteDirect(path)
    yield direct
    direct.close()


async def test_sqlite_direct_concurrent_reads_each_get_their_own_rows(
    direct: SqliteDirect, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = 0
    fetch_batch = direct._fetch_batch

    def counting(*args: object) -> None:
        nonlocal jobs
        jobs += 1
        fetch_batch(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(direct, "_fetch_batch", counting)
    found = await asyncio.gather(*(direct.fetch_all(_BY_N, {"n": n}) for n in range(_COUNT)))
    assert found == [[(n, f"n{n}")] for n in range(_COUNT)]
    assert jobs < _COUNT  # reads asked for together shared reader jobs
    assert await direct.fetch_all(_BY_N, {"n": _COUNT}) == []


async def test_sqlite_direct_batches_are_capped_and_all_answered(
    direct: SqliteDirect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More reads than fit the jobs in flight wait their turn, oldest first, and are all answered."""
    monkeypatch.setattr(sqlite_direct, "MAX_BATCH", 3)
    monkeypatch.setattr(sqlite_direct, "MAX_BATCHES", 2)
    found = await asyncio.gather(*(direct.fetch_all(_BY_N, {"n": n}) for n in range(50)))
    assert found == [[(n, f"n{n}")] for n in range(50)]


async def test_sqlite_direct_failing_statement_fails_only_its_caller(direct: SqliteDirect) -> None:
    reads = [direct.fetch_all(_BY_N, {"n": n}) for n in range(10)]
    reads.insert(5, direct.fetch_all(_FROM_MISSING, {}))
    outcomes = await asyncio.gather(*reads, return_exceptions=True)
    assert isinstance(outcomes[5], sqlite3.OperationalError) and "missing" in str(outcomes[5])
    assert outcomes[:5] + outcomes[6:] == [[(n, f"n{n}")] for n in range(10)]


async def test_sqlite_direct_slow_read_holds_up_no_read_on_another_reader(direct: SqliteDirect) -> None:
    """Reads asked for together are shared among idle readers: with one per reader, none waits for the slow one."""
    finished: list[str] = []

    async def read(name: str, statement: Any, values: dict[str, Any]) -> None:
        await direct.fetch_all(statement, values)
        finished.append(name)

    fast = [read(f"fast {n}", _BY_N, {"n": n}) for n in range(sqlite_direct.MAX_BATCHES - 1)]
    await asyncio.gather(read("slow", _SLOW, {}), *fast)
    assert finished[-1] == "slow", finished


async def test_sqlite_direct_cancelled_callers_do_not_break_the_others(direct: SqliteDirect) -> None:
    tasks = [asyncio.create_task(direct.fetch_all(_BY_N, {"n": n})) for n in range(20)]
    await asyncio.sleep(0)  # every read is waiting for its batch
    tasks[3].cancel()
    await asyncio.sleep(0)  # the batch went to a reader
    tasks[7].cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[3], asyncio.CancelledError)
    assert isinstance(outcomes[7], asyncio.CancelledError)
    assert [o for i, o in enumerate(outcomes) if i not in (3, 7)] == [
        [(n, f"n{n}")] for n in range(20) if n not in (3, 7)
    ]
    assert await direct.fetch_all(_BY_N, {"n": 3}) == [(3, "n3")]


async def test_sqlite_direct_close_answers_the_reads_asked_for(tmp_path: Path) -> None:
    path = str(tmp_path / "numbers.db")
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY, name TEXT)")
        connection.executemany("INSERT INTO numbers VALUES (?, ?)", [(n, f"n{n}") for n in range(200)])
    direct = SqliteDirect(path)
    early = [asyncio.create_task(direct.fetch_all(_BY_N, {"n": n})) for n in range(100)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # these went to readers
    late = [asyncio.create_task(direct.fetch_all(_BY_N, {"n": n})) for n in range(100, 200)]
    await asyncio.sleep(0)  # these are still waiting for their batch
    direct.close()
    found = await asyncio.gather(*early, *late)
    assert found == [[(n, f"n{n}")] for n in range(200)]
    with pytest.raises(RuntimeError):
        await direct.fetch_all(_BY_N, {"n": 1})
