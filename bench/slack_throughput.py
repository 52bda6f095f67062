"""Slack /support throughput and time to acknowledgement: Haven's real app vs bare Bolt apps.

Each app runs in its own process (with a loopback Slack emulator for any Web API call), served
by Bolt's own aiohttp app exactly as `haven run` serves it in HTTP mode. This process sends
correctly signed `/support` form bodies over loopback HTTP and measures, per request, the time
from sending to receiving the acknowledgement (which, for /support, carries the whole answer).

Compared in the same run:
- haven:      the real Haven app (real services, SQLite, the default pack) answering
              /support <topic> <region>
- bare-poll:  a bare Bolt AsyncApp acking static text with Bolt's defaults: the async runner
              polls for ack() every 10 ms (in Bolt's async listener runner)
- bare-fast:  the same bare app with process_before_response=True, the option Haven uses
- bare-blocks: bare-fast acking, as static content, one of Haven's real answers (same bytes to
              encode and send): what is left is Haven's own work per request

Reported: one-at-a-time p50/p99 and throughput, then N in flight. The aims (issue 5): Haven's
throughput at least 0.8 of the bare app's, and a one-at-a-time p50 under 2 ms.

    python bench/slack_throughput.py            # full run
    python bench/slack_throughput.py --quick    # under a minute, for CI smoke
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret-0123456789"
TOKEN = "xoxb-bench-0000-token"
VARIANTS = ("haven", "bare-poll", "bare-fast", "bare-blocks")
QUERIES = (
    "coming-out GB",
    "crisis US",
    "",
    "harassment IE",
    "family AU",
    "mental-health CA",
    "trans-and-gender NZ",
    "being-outed GB",
)


# ---- the server side (a child process) --------------------------------------------------------


async def _serve(kind: str, conn: Connection, static_answer: str) -> None:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from tests.fakes.fake_slack import FakeSlack

    async with FakeSlack() as fake:
        if kind == "haven":
            from bot.adapters.slack.app import assemble, http_app
            from bot.app import open_services
            from bot.settings import Secret, Settings

            folder = tempfile.mkdtemp(prefix="haven-bench-")
            settings = Settings(
                database_path=Path(folder) / "haven.db",
                slack_bot_token=Secret(TOKEN),
                slack_signing_secret=Secret(SECRET),
                slack_api_url=fake.api_url,
                slack_mode="http",
            )
            async with open_services(settings) as services:
                runtime = assemble(services)
                await _run_site(http_app(runtime.app), conn)
            return
        app = AsyncApp(
            client=AsyncWebClient(token=TOKEN, base_url=fake.api_url),
            signing_secret=SECRET,
            process_before_response=kind in ("bare-fast", "bare-blocks"),
        )

        answer = json.loads(static_answer) if kind == "bare-blocks" else {}

        @app.command("/support")
        async def support(ack: Any) -> None:
            if answer:
                await ack(**answer)
            else:
                await ack(text="Here is some support.", response_type="ephemeral")

        await _run_site(app.web_app(), conn)


async def _run_site(web_app: web.Application, conn: Connection) -> None:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    conn.send(site._server.sockets[0].getsockname()[1])
    loop = asyncio.get_running_loop()
    # Block (in a thread) until the parent says stop.
    await loop.run_in_executor(None, conn.recv)
    await runner.cleanup()


def _child(kind: str, conn: Connection, static_answer: str) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_serve(kind, conn, static_answer))


# ---- the client side ---------------------------------------------------------------------------


def _bodies(count: int) -> list[tuple[bytes, dict[str, str]]]:
    """Signed requests (valid for Slack's 5-minute window, so built once and reused)."""
    signed = []
    ts = str(int(time.time()))
    for index in range(count):
        form = {
            "token": "x",
            "team_id": "T0BENCH",
            "team_domain": "bench",
            "channel_id": "C0BENCH",
            "channel_name": "general",
            "user_id": f"U0BENCH{index}",
            "user_name": "bench",
            "command": "/support",
            "text": QUERIES[index % len(QUERIES)],
            "api_app_id": "A0BENCH",
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/response_url/x",
            "trigger_id": f"t{index}",
        }
        body = urlencode(form)
        digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": f"v0={digest}",
        }
        signed.append((body.encode(), headers))
    return signed


@dataclass
class Result:
    variant: str
    in_flight: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    sample: bytes = b""

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def row(self) -> str:
        return (
            f"{self.variant:<10} in-flight {self.in_flight:>3}  {self.requests:>6} req  "
            f"{self.throughput:>8.0f} req/s  p50 {self.percentile(0.5):>7.2f} ms  "
            f"p99 {self.percentile(0.99):>7.2f} ms"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "in_flight": self.in_flight,
            "requests": self.requests,
            "throughput": round(self.throughput, 1),
            "p50_ms": round(self.percentile(0.5), 3),
            "p99_ms": round(self.percentile(0.99), 3),
        }


async def _load(
    url: str,
    variant: str,
    requests: int,
    in_flight: int,
    bodies: list[tuple[bytes, dict[str, str]]],
) -> Result:
    connector = aiohttp.TCPConnector(limit=in_flight, force_close=False)
    latencies: list[float] = []
    samples: list[bytes] = []
    counter = iter(range(requests))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for index in counter:
                body, headers = bodies[index % len(bodies)]
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    payload = await response.read()
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 200 or b"ephemeral" not in payload:
                    raise RuntimeError(f"{variant}: unexpected answer {response.status}")
                if not samples:
                    samples.append(payload)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
    return Result(variant, in_flight, requests, elapsed, latencies, samples[0] if samples else b"")


class Server:
    """One app in its own process."""

    def __init__(self, variant: str, static_answer: str = "") -> None:
        context = multiprocessing.get_context("spawn")
        self.variant = variant
        self._parent, child = context.Pipe()
        self._process = context.Process(
            target=_child, args=(variant, child, static_answer), daemon=True
        )
        self._process.start()
        self.url = ""

    def wait_ready(self) -> None:
        if not self._parent.poll(90):
            raise RuntimeError(f"{self.variant}: the server did not start")
        self.url = f"http://127.0.0.1:{self._parent.recv()}/slack/events"

    def stop(self) -> None:
        self._parent.send("stop")
        self._process.join(15)
        if self._process.is_alive():
            self._process.terminate()


def _merge(parts: list[Result]) -> Result:
    return Result(
        parts[0].variant,
        parts[0].in_flight,
        sum(p.requests for p in parts),
        sum(p.seconds for p in parts),
        [latency for p in parts for latency in p.latencies_ms],
    )


async def _measure(
    servers: dict[str, Server], plan: dict[str, int], bodies: list[Any]
) -> dict[str, list[Result]]:
    """Rounds that interleave the variants, so drifting background load on a shared machine
    falls on all of them alike rather than on whichever ran last."""
    for server in servers.values():
        await _load(server.url, server.variant, plan["warmup"], 4, bodies)
    singles: dict[str, list[Result]] = {name: [] for name in servers}
    batches: dict[str, list[Result]] = {name: [] for name in servers}
    names = list(servers)
    for round_index in range(plan["rounds"]):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            server = servers[name]
            # The bare default app pays ~10 ms per request one at a time: fewer requests keep
            # the run short without changing what is measured.
            count = plan["sequential"] // (4 if name == "bare-poll" else 1)
            singles[name].append(await _load(server.url, name, count, 1, bodies))
            batches[name].append(
                await _load(server.url, name, plan["concurrent"], plan["in_flight"], bodies)
            )
    return {name: [_merge(singles[name]), _merge(batches[name])] for name in names}


async def _first_answer(url: str, bodies: list[Any]) -> str:
    body, headers = bodies[0]  # "/support coming-out GB": a typical full answer
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as response:
            return await response.text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (< 60 s)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    plan = (
        {"warmup": 200, "sequential": 150, "concurrent": 1000, "in_flight": 16, "rounds": 3}
        if args.quick
        else {"warmup": 1000, "sequential": 1000, "concurrent": 6000, "in_flight": 32, "rounds": 5}
    )
    bodies = _bodies(256)
    servers: dict[str, Server] = {}
    try:
        for variant in VARIANTS[:-1]:
            servers[variant] = Server(variant)
        for server in servers.values():
            server.wait_ready()
        static_answer = asyncio.run(_first_answer(servers["haven"].url, bodies))
        servers["bare-blocks"] = Server("bare-blocks", static_answer)
        servers["bare-blocks"].wait_ready()
        results = asyncio.run(_measure(servers, plan, bodies))
    finally:
        for server in servers.values():
            server.stop()
    for variant in VARIANTS:
        for result in results[variant]:
            print(result.row(), flush=True)
    haven_one, haven_many = results["haven"]
    print()
    for bare in ("bare-fast", "bare-blocks", "bare-poll"):
        ratio = haven_many.throughput / results[bare][1].throughput
        print(f"throughput ratio haven / {bare}: {ratio:.2f}  (aim >= 0.8)")
    print(f"answer size: {len(static_answer)} bytes of JSON (bare-fast acks ~60)")
    p50 = haven_one.percentile(0.5)
    print(f"haven one-at-a-time p50 time to ack: {p50:.2f} ms  (aim < 2 ms)")
    if args.json:
        print(json.dumps({v: [r.as_dict() for r in rs] for v, rs in results.items()}, indent=2))


if __name__ == "__main__":
    main()
