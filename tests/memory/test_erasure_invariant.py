"""The erasure invariant, over interleavings hypothesis chooses: two engines on one PostgreSQL,
people telling, learning, replies in flight, platform deletes, forget one and forget all.

After every forget, no text, JSON or binary column of any table holds a forgotten word, and
every word that was learned and not forgotten is still remembered.
"""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.storage import Storage, open_storage
from memory.commands.results import ShowResult, UndoResult
from memory.commands.verbs import MemoryCommand
from memory.engine import MemoryEngine
from memory.identity import UserRef
from memory.messages import ChatMessage, MessageDeleted
from tests.conftest import MANUAL, engine_on, unique
from tests.memory.helpers import channel, dm, person
from tests.memory.scan import places_holding
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel

_words = itertools.count(1)
_messages = itertools.count(1)


class World:
    """Two engines (two processes' worth) on one database, driven from a loop of its own."""

    def __init__(self, url: str, tmp: Path) -> None:
        """PostgreSQL (`url`): two storages, as two processes have. SQLite (no url; one
        process only): two engines on the one storage under `tmp`."""
        self.url = url
        self.data_dir = tmp / "data"
        self.loop = asyncio.new_event_loop()
        self.stack = AsyncExitStack()
        self.models = [ScriptedChatModel(script=memory_script) for _ in range(2)]
        self.storages: list[Storage] = []
        self.engines: list[MemoryEngine] = []
        for model in self.models:
            if url or not self.storages:
                opened = open_storage(url, self.data_dir)
                self.storages.append(self.run(self.stack.enter_async_context(opened)))
            self.engines.append(engine_on(self.storages[-1], model, config=MANUAL))

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def holding(self, word: str) -> list[str]:
        return places_holding(self.storages[0], word, url=self.url, data_dir=self.data_dir)

    def close(self) -> None:
        for engine in self.engines:
            self.run(engine.scheduler.close())
        self.run(self.stack.aclose())
        leftover = asyncio.all_tasks(self.loop)
        for task in leftover:
            task.cancel()
        self.run(asyncio.gather(*leftover, return_exceptions=True))
        self.loop.close()


class ErasureMachine(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.people = [person(unique("alice")), person(unique("bob"))]
        self.room = channel(unique("room"))
        self.pending: dict[str, tuple[UserRef, ChatMessage]] = {}  # word -> who said it, where
        self.learned: dict[str, UserRef] = {}
        self.said: dict[str, ChatMessage] = {}  # word -> the message that said it
        self.forgotten: set[str] = set()
        self.checked = True

    # ---- what people do ------------------------------------------------------------------

    def _say(self, who: UserRef, in_dm: bool) -> tuple[str, ChatMessage]:
        word = f"Q{next(_words):05d}Z"
        where = dm(who) if in_dm else self.room
        text = f"Remember that I own a {word}"
        return word, ChatMessage(who, where, text, message_id=f"x{next(_messages)}")

    @rule(who=st.integers(0, 1), engine=st.integers(0, 1), in_dm=st.booleans())
    def tell(self, who: int, engine: int, in_dm: bool) -> None:
        word, message = self._say(self.people[who], in_dm)
        self.world.run(self.world.engines[engine].reply(message))
        self.pending[word] = (self.people[who], message)
        self.said[word] = message

    @rule(who=st.integers(0, 1), engine=st.integers(0, 1))
    def learn(self, who: int, engine: int) -> None:
        user = self.people[who]
        self.world.run(self.world.engines[engine].learn_now(user.key))
        remembered = " ".join(v.text for v in self._show(user, engine).facts)
        for word, (owner, _) in list(self.pending.items()):
            if owner == user:
                del self.pending[word]
                if word in remembered:
                    self.learned[word] = user

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data())
    def platform_delete(self, data: st.DataObject) -> None:
        word = data.draw(st.sampled_from(sorted(self.pending)))
        _, message = self.pending.pop(word)
        event = MessageDeleted(message.conversation, (message.message_id,))
        self.world.run(self.world.engines[0].message_deleted(event))
        self._forgot({word})

    @precondition(lambda self: bool(self.learned))
    @rule(data=st.data(), engine=st.integers(0, 1), known=st.booleans())
    def platform_delete_learned(self, data: st.DataObject, engine: int, known: bool) -> None:
        """A message already learned is deleted: what was learned stays, but no history entry
        or undo state keeps the message's words."""
        word = data.draw(st.sampled_from(sorted(self.learned)))
        user, message = self.learned[word], self.said[word]
        author = user if known else None
        event = MessageDeleted(message.conversation, (message.message_id,), author=author)
        self.world.run(self.world.engines[engine].message_deleted(event))
        repository = self.world.engines[0].repository
        history = self.world.run(repository.history(user.key))
        assert word not in str(list(history.values())), f"{word} in history"
        change_sets = self.world.run(repository.change_sets(user.key))
        assert word not in str(change_sets), f"{word} in an undo state"
        self.checked = False

    @precondition(lambda self: bool(self.learned))
    @rule(data=st.data(), engine=st.integers(0, 1))
    def forget_one(self, data: st.DataObject, engine: int) -> None:
        word = data.draw(st.sampled_from(sorted(self.learned)))
        user = self.learned.pop(word)
        [item] = [v for v in self._show(user, engine).facts if word in v.text]
        self._command(user, MemoryCommand("forget", item_id=item.id), engine)
        self._forgot({word})

    @rule(who=st.integers(0, 1), engine=st.integers(0, 1))
    def forget_all(self, who: int, engine: int) -> None:
        self._command(self.people[who], MemoryCommand("forget_all", confirmed=True), engine)
        self._forgot(self._words_of(self.people[who]))

    @rule(who=st.integers(0, 1), in_dm=st.booleans())
    def forget_all_during_a_reply(self, who: int, in_dm: bool) -> None:
        """A reply in flight in one process while the other forgets everything."""
        user = self.people[who]
        word, message = self._say(user, in_dm)
        self.world.models[0].latency = 0.3

        async def race() -> None:
            turn = asyncio.ensure_future(self.world.engines[0].reply(message))
            await asyncio.sleep(0.1)
            command = MemoryCommand("forget_all", confirmed=True)
            await self.world.engines[1].run_command(user, command)
            await turn

        try:
            self.world.run(race())
        finally:
            self.world.models[0].latency = 0.0
        self.world.run(self.world.engines[0].learn_now(user.key))
        self._forgot({word, *self._words_of(user)})

    @rule(who=st.integers(0, 1), engine=st.integers(0, 1))
    def undo(self, who: int, engine: int) -> None:
        """Undo what learning last did: an insert goes; nothing forgotten may come back."""
        user = self.people[who]
        result = self._command(user, MemoryCommand("undo"), engine)
        assert isinstance(result, UndoResult)
        remembered = " ".join(v.text for v in self._show(user, engine).facts)
        for word in [w for w, u in self.learned.items() if u == user and w not in remembered]:
            assert any(word in line for line in result.reverted), f"{word} lost by undo"
            del self.learned[word]
        self.checked = False

    # ---- what must hold ------------------------------------------------------------------

    @invariant()
    def forgotten_words_are_nowhere(self) -> None:
        if self.checked:
            return
        self.checked = True
        for word in sorted(self.forgotten):
            assert self.world.holding(word) == [], f"{word} survives"
        for word, user in list(self.learned.items()):
            facts = " ".join(v.text for v in self._show(user, 0).facts)
            assert word in facts, f"{word} was lost though never forgotten"

    # ---- helpers -------------------------------------------------------------------------

    def _forgot(self, words: set[str]) -> None:
        self.forgotten |= words
        self.checked = False

    def _words_of(self, user: UserRef) -> set[str]:
        words = {w for w, u in self.learned.items() if u == user}
        words |= {w for w, (u, _) in self.pending.items() if u == user}
        for word in words:
            self.learned.pop(word, None)
            self.pending.pop(word, None)
        return words

    def _show(self, user: UserRef, engine: int) -> ShowResult:
        result = self._command(user, MemoryCommand("show"), engine)
        assert isinstance(result, ShowResult)
        # Show learns what is pending for the person first: what it lists is learned now.
        remembered = " ".join(v.text for v in result.facts)
        for word, (owner, _) in list(self.pending.items()):
            if owner == user and word in remembered:
                del self.pending[word]
                self.learned[word] = user
        return result

    def _command(self, user: UserRef, command: MemoryCommand, engine: int) -> Any:
        return self.world.run(self.world.engines[engine].run_command(user, command))


def test_nothing_forgotten_survives_anywhere(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    world = World(url, tmp_path)
    ErasureMachine.world = world
    try:
        run = ErasureMachine.TestCase
        run.settings = settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        run().runTest()
    finally:
        world.close()
