"""Answering people: @mentions in channels (in their thread), DMs, and follow-ups in threads the
bot already answered in. Each event is handled once, even when Slack delivers it again."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.changes import CHANGE_SUBTYPES, edited_text, to_message_change
from adapters.slack.directory import UserDirectory
from adapters.slack.ids import MessageRef, is_dm_channel, thread_conversation
from adapters.slack.normalize import (
    is_human_message,
    mentions,
    mentions_bot,
    reply_thread_ts,
    to_chat_message,
    to_prior_turns,
)
from adapters.slack.permalinks import WorkspaceUrls
from adapters.slack.post import post_answer
from adapters.slack.threads import AnsweredThreads
from memory.engine import MemoryEngine
from memory.errors import IdentityError
from memory.learning import Learned
from memory.messages import MessageDeleted, MessageEdited, PriorTurn

log = logging.getLogger(__name__)

REACTION = "brain"


class SlackChat:
    def __init__(
        self,
        engine: MemoryEngine,
        directory: UserDirectory,
        *,
        history_limit: int = 20,
    ) -> None:
        self.engine = engine
        self.directory = directory
        self.threads = AnsweredThreads(engine.store)
        self.history_limit = history_limit
        self.urls = WorkspaceUrls()

    # ---- listeners ------------------------------------------------------------------------

    async def on_mention(
        self, event: dict[str, Any], body: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> None:
        """An @mention (app_mention) in a channel: answer in its thread."""
        if is_dm_channel(event.get("channel"), event.get("channel_type")):
            return  # a DM also arrives as message.im, which answers it
        await self._answer(event, body, context, client, in_thread=True)

    async def on_message(
        self, event: dict[str, Any], body: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> None:
        """A message event: a DM, or a follow-up in a thread the bot answered in; an edit or a
        deletion of a message the bot may have stored."""
        bot = context.bot_user_id
        if event.get("subtype") in CHANGE_SUBTYPES:
            await self._on_change(event, context, client)
            return
        if not is_human_message(event, bot):
            return
        if is_dm_channel(event.get("channel"), event.get("channel_type")):
            await self._answer(event, body, context, client, in_thread=False)
            return
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event.get("ts"):
            return  # a top-level channel message: only an @mention starts a conversation
        if mentions_bot(str(event.get("text") or ""), bot):
            return  # app_mention answers it; answering here too would reply twice
        try:
            key = thread_conversation(context.team_id, event.get("channel"), thread_ts).key
        except IdentityError:
            return
        if await self.threads.answered(key):
            await self._answer(event, body, context, client, in_thread=True)
        else:
            log.debug("ignored a message in a thread the bot is not in", extra=_where(event))

    async def on_learned(self, learned: Learned, client: AsyncWebClient) -> None:
        """Something was learned from a message: mark it with a reaction."""
        ref = MessageRef.parse(learned.message_id) if learned.platform == "slack" else None
        if ref is None:
            return
        try:
            await client.reactions_add(channel=ref.channel, timestamp=ref.ts, name=REACTION)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_reacted":
                _log_api_error("reactions.add", exc, channel=ref.channel)

    async def _on_change(self, event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        try:
            bot = context.bot_user_id
            names = await self.directory.names(client, mentions(edited_text(event)))
            change = to_message_change(event, team_id=context.team_id, bot_user_id=bot, names=names)
            if isinstance(change, MessageDeleted):
                await self.engine.message_deleted(change)
            elif isinstance(change, MessageEdited):
                await self.engine.message_edited(change)
        except IdentityError as exc:
            log.warning("ignored a Slack message change: %s", exc, extra=_where(event))
        except Exception:
            log.exception("handling a Slack message change failed", extra=_where(event))

    # ---- one message ----------------------------------------------------------------------

    async def _answer(
        self,
        event: dict[str, Any],
        body: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
        *,
        in_thread: bool,
    ) -> None:
        event_id = body.get("event_id")
        if event_id and not await self.engine.first_time(f"slack:{event_id}"):
            log.info("skipped a redelivered event", extra={"event_id": event_id})
            return
        try:
            await self._reply(event, context, client, in_thread=in_thread)
        except IdentityError as exc:
            log.warning("ignored a Slack event without usable ids: %s", exc, extra=_where(event))
        except Exception:
            log.exception("handling a Slack message failed", extra=_where(event))

    async def _reply(
        self, event: dict[str, Any], context: Any, client: AsyncWebClient, *, in_thread: bool
    ) -> None:
        bot = context.bot_user_id
        text = str(event.get("text") or "")
        people = [str(event.get("user") or ""), *mentions(text)]
        names = await self.directory.names(client, [u for u in people if u != bot])
        reply_ts = reply_thread_ts(event) if in_thread else event.get("thread_ts")
        prior: list[PriorTurn] = []
        if in_thread and event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            key = thread_conversation(context.team_id, event.get("channel"), reply_ts).key
            if not await self.threads.answered(key):
                prior = await self._thread_so_far(event, bot, client)
        message = to_chat_message(
            event,
            team_id=context.team_id,
            enterprise_id=context.enterprise_id,
            bot_user_id=bot,
            names=names,
            workspace_url=await self.urls.base_url(
                client, context, str(event.get("channel") or ""), str(event.get("ts") or "")
            ),
            prior_turns=prior,
        )
        if message is None:
            return
        if message.conversation.audience == "channel":
            await self.threads.mark(message.conversation.key)
        reply = await self.engine.reply(message)
        if reply.failed:
            log.warning("answered with an apology", extra=_where(event))
        try:
            await post_answer(client, event["channel"], reply.text, reply_ts)
        except SlackApiError as exc:
            _log_api_error("chat.postMessage", exc, channel=str(event["channel"]))

    async def _thread_so_far(
        self, event: Mapping[str, Any], bot: str | None, client: AsyncWebClient
    ) -> list[PriorTurn]:
        """The thread before the bot was first mentioned in it (bounded), for context."""
        try:
            response = await client.conversations_replies(
                channel=event["channel"],
                ts=event["thread_ts"],
                latest=event["ts"],
                inclusive=False,
                limit=self.history_limit,
            )
        except SlackApiError as exc:
            _log_api_error("conversations.replies", exc, channel=str(event["channel"]))
            return []
        messages = [m for m in response.get("messages") or [] if isinstance(m, dict)]
        messages = messages[-self.history_limit :]
        authors = [str(m.get("user") or "") for m in messages]
        texts = [mentions(str(m.get("text") or "")) for m in messages]
        people = [*authors, *(u for t in texts for u in t)]
        names = await self.directory.names(client, [u for u in people if u != bot])
        return to_prior_turns(messages, before_ts=str(event["ts"]), bot_user_id=bot, names=names)


def _where(event: Mapping[str, Any]) -> dict[str, Any]:
    """Log context: ids only, never message text."""
    return {"channel": event.get("channel"), "ts": event.get("ts")}


def _log_api_error(method: str, exc: SlackApiError, **context: Any) -> None:
    log.warning(
        "Slack %s failed: %s",
        method,
        exc.response.get("error"),
        extra={"slack_method": method, **context},
    )
