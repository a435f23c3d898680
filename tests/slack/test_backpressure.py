"""A burst at ten times the model's capacity: every acknowledged message is answered exactly
once, with an answer (no apology), fairly between people, and the queue shows in /metrics."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import PrivateAttr

from adapters.slack.app import build_slack_app
from bot.storage import Storage
from memory.engine import APOLOGY
from memory.intake.delivery import BUSY, Delivery, DeliveryConfig
from tests.conftest import engine_on
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel
from tests.slack.conftest import BOT_TOKEN, SECRET, Bot, SlackServer, serve

CAPACITY = 2
PEOPLE = 5
EACH = 4  # 5 people x 4 messages = 20 messages = 10x capacity


class LimitedModel(ScriptedChatModel):
    """A model that fails any call beyond `capacity` at once, as an overloaded provider does."""

    capacity: int = CAPACITY
    _now: int = PrivateAttr(default=0)
    _peak: int = PrivateAttr(default=0)

    async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
        self._now += 1
        self._peak = max(self._peak, self._now)
        try:
            if self._now > self.capacity:
                raise RuntimeError("over capacity")
            return await super()._agenerate(*args, **kwargs)
        finally:
            self._now -= 1


@pytest.fixture
async def limited(storage: Storage, slack: SlackServer) -> AsyncIterator[tuple[Bot, Delivery]]:
    model = LimitedModel(script=memory_script, latency=0.05)
    engine = engine_on(storage, model)
    delivery = Delivery(storage.inbox, DeliveryConfig(concurrency=CAPACITY, busy_after=0.15))
    app = build_slack_app(
        engine, bot_token=BOT_TOKEN, signing_secret=SECRET, api_url=slack.api_url, delivery=delivery
    )
    for n in range(PEOPLE):
        slack.add_user(f"UB{n}", f"burst{n}")
    async with serve(app, slack) as bot:
        yield bot, delivery
    await engine.scheduler.close()


async def test_a_burst_is_answered_once_each_without_apologies(
    limited: tuple[Bot, Delivery],
) -> None:
    bot, delivery = limited
    sent = [(f"UB{n}", f"DB{n}") for _ in range(EACH) for n in range(PEOPLE)]
    await asyncio.gather(
        *(bot.dm(f"hello {i}", user=u, channel=c) for i, (u, c) in enumerate(sent))
    )

    def answers(calls: list[Any]) -> list[Any]:
        return [c for c in calls if c.method == "chat.postMessage" and c.args["text"] != BUSY]

    await bot.slack.wait_for(lambda calls: len(answers(calls)) >= len(sent), timeout=60)
    posted = answers(bot.slack.calls)
    assert Counter(c.args["channel"] for c in posted) == {f"DB{n}": EACH for n in range(PEOPLE)}
    assert not [c for c in posted if c.args["text"] == APOLOGY]
    busy = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["text"] == BUSY]
    assert busy, "people waiting past the bound were told the bot is busy"
    registry = delivery.queue.registry
    assert registry.get_sample_value("bot_reply_queue_wait_seconds_count") == len(sent)
    for _ in range(200):  # the last one marks its event done, then frees its slot
        if delivery.queue.running == 0:
            break
        await asyncio.sleep(0.01)
    assert delivery.queue.running == 0 and delivery.queue.waiting == 0
    assert registry.get_sample_value("bot_replies_in_flight") == 0
    assert registry.get_sample_value("bot_reply_queue_length") == 0
    assert registry.get_sample_value("bot_busy_notices_total") == len(busy)
