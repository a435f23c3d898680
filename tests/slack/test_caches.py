"""The Slack adapter's in-process caches: names from users.info for an hour (failures too),
answered threads from the store, both bounded."""

from __future__ import annotations

from typing import Any

from langgraph.store.memory import InMemoryStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.directory import UserDirectory
from adapters.slack.threads import AnsweredThreads
from tests.slack.conftest import SlackServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_names_are_looked_up_once_per_ttl_and_misses_are_kept_too(
    slack: SlackServer,
) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    clock = Clock()
    directory = UserDirectory(ttl_seconds=60, clock=clock)

    assert await directory.names(client, ["U1", "U2", "U1", "UNKNOWN"]) == {
        "U1": "alice",
        "U2": "bob",
    }
    assert await directory.name(client, "UNKNOWN") is None
    assert len(slack.calls_to("users.info")) == 3  # one each, the failed one included

    clock.now += 59
    await directory.names(client, ["U1", "U2", "UNKNOWN"])
    assert len(slack.calls_to("users.info")) == 3
    clock.now += 2  # past the TTL: asked again
    await directory.name(client, "U1")
    assert len(slack.calls_to("users.info")) == 4


async def test_the_directory_keeps_at_most_its_capacity(slack: SlackServer) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    directory = UserDirectory(capacity=1)
    await directory.name(client, "U1")
    await directory.name(client, "U2")  # U1 goes
    await directory.name(client, "U2")
    await directory.name(client, "U1")
    assert [c.args["user"] for c in slack.calls_to("users.info")] == ["U1", "U2", "U1"]


class CountingStore(InMemoryStore):
    reads = 0

    async def aget(self, namespace: tuple[str, ...], key: str, **kwargs: Any) -> Any:
        self.reads += 1
        return await super().aget(namespace, key, **kwargs)


async def test_answered_threads_read_the_store_once_each_within_the_cache() -> None:
    store = CountingStore()
    threads = AnsweredThreads(store, cache_size=2)
    other = AnsweredThreads(store, cache_size=2)  # another process, same store
    await threads.mark("t1")
    await threads.mark("t2")

    assert await other.answered("t1") and await other.answered("t1")
    assert store.reads == 1
    assert not await other.answered("t3") and not await other.answered("t3")
    assert store.reads == 3  # an unanswered thread is asked about each time

    await threads.mark("t3")  # beyond two: the least recently used (t1) goes
    assert await threads.answered("t1")
    assert store.reads == 4
