"""SRP's 3072-bit arithmetic on the server (issue 13): why chatserver uses gmpy2 with the GIL released.

    taskset -c 0 python -m bench.srp_arithmetic            # ~10 s
    taskset -c 0 python -m bench.srp_arithmetic --seconds 1

For each modular exponentiation (Python's pow holding the GIL, gmpy2.powmod holding it, gmpy2.powmod releasing
it) the bench times one server-side handshake with chatserver's own code (InitiateAuth's B = k*v + g^b, then
RespondToAuthChallenge's u, S and the claim signature), then runs handshakes back to back in a worker thread
(asyncio.to_thread, as the server does) while the event loop's thread wakes every millisecond, and reports how
late those wake-ups were: the stall a busy SRP load puts on everything else the loop serves (fan-out). Pin it to
one core: that is where the event loop and the worker thread meet in a one-core deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import resource
import secrets
import statistics
import time
from collections.abc import Callable

import gmpy2

from chatserver.auth import srp
from chatserver.auth.srp_handshake import Handshake, begin_srp, expected_signature

PowMod = Callable[[int, int, int], int]


def _gmpy2_holding_gil(base: int, exponent: int, modulus: int) -> int:
    return int(gmpy2.powmod(base, exponent, modulus))


VARIANTS: dict[str, PowMod] = {
    "python pow (holds the GIL)": pow,
    "gmpy2.powmod, GIL held": _gmpy2_holding_gil,
    "gmpy2.powmod, GIL released (chatserver)": srp.powmod,
}


def one_handshake(verifier: int, a_public: int) -> None:
    """What the server computes for one SRP sign-in (both calls)."""
    b_private, b_public = begin_srp(verifier)
    handshake = Handshake("srp", "x", "sub", "client", 0, a_public, b_public, b_private)
    block = base64.b64encode(secrets.token_bytes(64)).decode()
    expected_signature(handshake, verifier, "pool", "user", block, "Sat Sep 5 09:03:07 UTC 2026")


async def loop_lag_while_busy(verifier: int, a_public: int, seconds: float) -> tuple[int, list[float]]:
    stop = asyncio.Event()

    async def worker() -> int:
        count = 0
        while not stop.is_set():
            await asyncio.to_thread(one_handshake, verifier, a_public)
            count += 1
        return count

    task = asyncio.create_task(worker())
    lags: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append((time.perf_counter() - started - 0.001) * 1000)
    stop.set()
    return await task, sorted(lags)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="busy-loop time per variant")
    parser.add_argument("--handshakes", type=int, default=10, help="timed handshakes per variant")
    args = parser.parse_args()
    verifier = srp.compute_verifier("pool", "user", "Corr3ct-Horse!").verifier
    a_public = srp.powmod(srp.G, srp.new_private_key(), srp.N)
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{'modexp':<42} {'ms/handshake':>12} {'handshakes/s':>12} {'loop lag p50':>12} {'p99':>8} {'max':>8}"
    )
    for name, powmod in VARIANTS.items():
        srp.powmod = powmod  # the module's functions look it up at call time
        one_handshake(verifier, a_public)
        timings = []
        for _ in range(args.handshakes):
            started = time.perf_counter()
            one_handshake(verifier, a_public)
            timings.append((time.perf_counter() - started) * 1000)
        count, lags = asyncio.run(loop_lag_while_busy(verifier, a_public, args.seconds))
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        print(
            f"{name:<42} {statistics.median(timings):>12.1f} {count / args.seconds:>12.1f} "
            f"{lags[len(lags) // 2]:>10.1f}ms {p99:>6.1f}ms {lags[-1]:>6.1f}ms"
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime - cpu_start.ru_utime + usage.ru_stime - cpu_start.ru_stime
    print(f"bench process CPU: {cpu:.1f} s (user + system)")


if __name__ == "__main__":
    main()
