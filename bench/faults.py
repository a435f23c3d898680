"""Delivery through faults: does every acknowledged message get exactly one answer?

The bot runs as users run it (`python -m bot`, Slack HTTP Events, PostgreSQL) against the
fake Slack and OpenAI-compatible servers of the tests. A sender streams signed DMs (one channel
per message, so each answer can be attributed) and behaves as Slack does: a request that is
not answered 2xx within 3 s is sent again, with `X-Slack-Retry-Num`, after each delay of
`--retry-delays` (Slack: at once, then after about 1 minute and 5 minutes), then given up. While it
streams, one fault at a time: the database's connections are cut (a restart), the database
refuses connections for `--stop-seconds` and for `--outage-seconds`, the bot is killed with
-9 and started again. Only this run's own database is touched (ALLOW_CONNECTIONS and
pg_terminate_backend), never the server.

    .venv/bin/python -m bench.faults [--rate 10] [--before 5] [--after 5] [--stop-seconds 10]
        [--outage-seconds 45] [--retry-delays 0,1,60,300] [--latency-ms 100]
        [--faults restart,stop,outage,kill9] [--lease 30] [--quick]

Prints per fault: messages sent, acked (2xx at some attempt), refused (never acked: Slack
gives up and shows it failed), answered, apologized, duplicates (more than one answer), lost
(acked and never answered), and the slowest /healthz probe.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg

from bench.common import ADMIN_URL, machine_line
from memory.engine import APOLOGY
from memory.intake.delivery import BUSY, TOO_LATE
from tests.fakes.openai_server import ChatRequest, FakeOpenAI, FakeResponse
from tests.fakes.slack import FakeSlack, dm_event, event_envelope, sign_request
from tests.faults.database import set_available
from tests.processes import bot_env
from tests.test_console_e2e import responder

TOKEN = "xoxb-1111-2222-benchfaults"
SECRET = "bench-faults-signing-secret"
USERS = 20
ACK_SECONDS = 3.0  # Slack's deadline for an acknowledgement


@dataclass
class Message:
    n: int
    channel: str
    body: bytes
    attempts: int = 0
    acked: bool = False
    done_sending: bool = False


@dataclass
class Phase:
    name: str
    messages: list[Message] = field(default_factory=list)
    slowest_probe: float = 0.0
    failed_probes: int = 0


class BotProcess:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.process: asyncio.subprocess.Process | None = None
        self.log = open(cwd / "bot.log", "ab")  # noqa: SIM115 - kept open across restarts

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=self.env,
            cwd=self.cwd,
            stdout=self.log,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> tuple[int | None, float]:
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), 120)
        except TimeoutError:
            self.process.kill()
            code = None
        return code, time.monotonic() - started


class Sender:
    """Sends as Slack does: retries on a non-2xx or a late answer, then gives up."""

    def __init__(self, session: aiohttp.ClientSession, url: str, delays: list[float]) -> None:
        self.session, self.url, self.delays = session, url, delays

    async def deliver(self, message: Message) -> None:
        for attempt, delay in enumerate(self.delays):
            await asyncio.sleep(delay)
            message.attempts += 1
            headers = {"Content-Type": "application/json", **sign_request(SECRET, message.body)}
            if attempt:
                headers |= {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_error"}
            try:
                timeout = aiohttp.ClientTimeout(total=ACK_SECONDS)
                async with self.session.post(
                    self.url, data=message.body, headers=headers, timeout=timeout
                ) as response:
                    if 200 <= response.status < 300:
                        message.acked = True
                        break
            except (aiohttp.ClientError, TimeoutError):
                pass
        message.done_sending = True


async def probe_health(session: aiohttp.ClientSession, base: str, phase: list[Phase]) -> None:
    """Every 0.5 s: how long /healthz takes (a probe with a 5 s timeout, as a balancer's)."""
    while True:
        started = time.monotonic()
        try:
            async with session.get(f"{base}/healthz", timeout=aiohttp.ClientTimeout(total=5)):
                pass
        except (aiohttp.ClientError, TimeoutError):
            phase[0].failed_probes += 1
        phase[0].slowest_probe = max(phase[0].slowest_probe, time.monotonic() - started)
        await asyncio.sleep(0.5)


async def wait_healthy(session: aiohttp.ClientSession, base: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the bot never became healthy")


async def inject(fault: str, url: str, bot: BotProcess, args: argparse.Namespace) -> None:
    if fault == "restart":
        set_available(url, False)  # every connection cut, as a restart does
        await asyncio.sleep(1.0)
        set_available(url, True)
    elif fault in ("stop", "outage"):
        set_available(url, False)
        await asyncio.sleep(args.stop_seconds if fault == "stop" else args.outage_seconds)
        set_available(url, True)
    elif fault == "kill9":
        await bot.kill9()
        await bot.start()


async def run_phase(
    fault: str,
    url: str,
    bot: BotProcess,
    sender: Sender,
    slack: FakeSlack,
    args: argparse.Namespace,
    current: list[Phase],
) -> Phase:
    phase = Phase(fault)
    current[0] = phase
    sends: list[asyncio.Task[None]] = []
    fault_task = None
    started = time.monotonic()
    stream_seconds = (
        args.before
        + args.after
        + (
            args.stop_seconds
            if fault == "stop"
            else args.outage_seconds
            if fault == "outage"
            else 1
        )
    )
    n = 0
    while time.monotonic() - started < stream_seconds:
        if fault_task is None and time.monotonic() - started >= args.before:
            fault_task = asyncio.create_task(inject(fault, url, bot, args))
        user = f"U{n % USERS}"
        channel = f"D{fault}{n}"
        body = json.dumps(
            event_envelope(
                dm_event(
                    f"Remember that I like item {n}",
                    user=user,
                    channel=channel,
                    ts=f"{int(time.time())}.{n:06d}",
                ),
                event_id=f"Ev{uuid.uuid4().hex[:12]}",
            )
        ).encode()
        message = Message(n, channel, body)
        phase.messages.append(message)
        sends.append(asyncio.create_task(sender.deliver(message)))
        n += 1
        await asyncio.sleep(1 / args.rate)
    if fault_task is not None:
        await fault_task
    await asyncio.gather(*sends)
    # Acked messages may be answered late (recovery after a lease runs out): wait for them.
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        answered = _answers(slack)
        if all(m.channel in answered for m in phase.messages if m.acked):
            break
        await asyncio.sleep(0.5)
    return phase


def _answers(slack: FakeSlack) -> Counter[str]:
    return Counter(
        str(c.args.get("channel"))
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("text") != BUSY
    )


def report(phase: Phase, slack: FakeSlack) -> dict[str, object]:
    answers = _answers(slack)
    texts: dict[str, list[str]] = {}
    for call in slack.calls_to("chat.postMessage"):
        texts.setdefault(str(call.args.get("channel")), []).append(str(call.args.get("text")))
    sent = len(phase.messages)
    acked = [m for m in phase.messages if m.acked]
    answered = [m for m in phase.messages if answers[m.channel]]
    apologized = [
        m for m in answered if any(t in (APOLOGY, TOO_LATE) for t in texts.get(m.channel, []))
    ]
    return {
        "fault": phase.name,
        "sent": sent,
        "acked": len(acked),
        "refused": sent - len(acked),
        "answered": len(answered),
        "apologized": len(apologized),
        "duplicates": sum(1 for m in phase.messages if answers[m.channel] > 1),
        "lost": sum(1 for m in acked if not answers[m.channel]),
        "slowest /healthz s": round(phase.slowest_probe, 2),
        "failed probes": phase.failed_probes,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def main(args: argparse.Namespace) -> None:
    print(machine_line())
    name = f"bench_faults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    latency = args.latency_ms / 1000

    def model(request: ChatRequest) -> FakeResponse:
        answer = responder(request)
        return answer.with_delay(latency) if not request.tool_names() else answer

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="bench_faults_"))
    rows: list[dict[str, object]] = []
    try:
        async with FakeOpenAI(model) as llm, FakeSlack() as slack:
            for n in range(USERS):
                slack.add_user(f"U{n}", f"user{n}")
            env = bot_env(
                llm.base_url,
                work / "data",
                DATABASE_URL=url,
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=slack.api_url,
                PORT=str(port),
                LOG_LEVEL="WARNING",
                REACT_WHEN_LEARNED="false",
                INBOX_LEASE_SECONDS=str(args.lease),
                INBOX_RECOVER_EVERY_SECONDS=str(max(1.0, args.lease / 3)),
            )
            bot = BotProcess(env, work)
            await bot.start()
            async with aiohttp.ClientSession() as session:
                await wait_healthy(session, base)
                sender = Sender(session, f"{base}/slack/events", args.retry_delays)
                current = [Phase("start")]
                prober = asyncio.create_task(probe_health(session, base, current))
                for fault in args.faults:
                    phase = await run_phase(fault, url, bot, sender, slack, args, current)
                    rows.append(report(phase, slack))
                    print(_row(rows[-1]), flush=True)
                prober.cancel()
            code, seconds = await bot.stop()
            print(f"SIGTERM: exit code {code} after {seconds:.1f} s")
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print()
    print(_table(rows))
    print(f"(bot log: {work / 'bot.log'})")


def _row(row: dict[str, object]) -> str:
    return "  ".join(f"{k}={v}" for k, v in row.items())


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second")
    parser.add_argument("--before", type=float, default=5.0, help="seconds before the fault")
    parser.add_argument("--after", type=float, default=5.0, help="seconds after the fault")
    parser.add_argument("--stop-seconds", type=float, default=10.0)
    parser.add_argument("--outage-seconds", type=float, default=45.0)
    parser.add_argument(
        "--retry-delays", default="0,1,60,300", help="wait before each attempt, s (Slack's)"
    )
    parser.add_argument("--settle", type=float, default=120.0, help="max wait for late answers")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="fake model latency")
    parser.add_argument("--faults", default="restart,stop,outage,kill9")
    parser.add_argument(
        "--lease", type=float, default=30.0, help="INBOX_LEASE_SECONDS of the bot (its default)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    args = parser.parse_args(argv)
    args.retry_delays = [float(d) for d in args.retry_delays.split(",") if d] or [0.0]
    args.faults = [f for f in args.faults.split(",") if f]
    if args.quick:
        args.rate, args.before, args.after = 5.0, 1.0, 1.0
        args.stop_seconds, args.outage_seconds, args.retry_delays = 2.0, 3.0, [0.0, 2.0, 5.0]
        args.settle, args.faults, args.lease = 60.0, ["restart", "kill9"], 3.0
    return args


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main(parse()))
