"""Answering people: @mentions in channels (in their thread), DMs, and follow-ups in threads the
bot already answered in. Each event is answered once through the durable inbox
(memory.intake.delivery),
even when Slack delivers it again or the process that took it died."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.changes import CHANGE_SUBTYPES, edited_text, to_message_change
from adapters.slack.directory import UserDirectory
from adapters.slack.ids import MessageRef, is_dm_channel, thread_conversation
from adapters.slack.intake import SKIPPED, inbox_key
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
from memory import (
    APOLOGY,
    BUSY,
    LATE_NOTE,
    TOO_LATE,
    Delivery,
    IdentityError,
    Learned,
    MemoryEngine,
    MessageDeleted,
    MessageEdited,
    PriorTurn,
)

log = logging.getLogger(__name__)

REACTION = "brain"
# Set in a bolt request's context when the inbox redelivers an event: its age in seconds.
LATE_SECONDS = "inbox_late_seconds"
# Edits and deletions share one lane of the fair queue: they make no model call, and must not
# wait behind one person's burst of messages.
CHANGES_LANE = "slack:changes"


class SlackChat:
    """Conversations on Slack: answers mentions, DMs and follow-ups in threads it answered in
    (through the delivery inbox, once across processes), and applies message edits and deletes
    to memory. `directory` names users for the model; `history_limit` is how many earlier
    messages of a thread it reads for context when it is first mentioned in it."""

    def __init__(
        self,
        engine: MemoryEngine,
        directory: UserDirectory,
        delivery: Delivery,
        *,
        history_limit: int = 20,
    ) -> None:
        self.engine = engine
        self.delivery = delivery
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
            await self._on_change(event, body, context, client)
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
            await self._pass(body)  # app_mention answers it; answering here too would reply twice
            return
        try:
            key = thread_conversation(context.team_id, event.get("channel"), thread_ts).key
        except IdentityError:
            await self._pass(body)
            return
        if await self.threads.answered(key):
            await self._answer(event, body, context, client, in_thread=True)
        else:
            await self._pass(body)
            log.debug("ignored a message in a thread the bot is not in", extra=_where(event))

    async def _pass(self, body: Mapping[str, Any]) -> None:
        """A recorded event that is not for the bot after all: settle it, so it is not
        taken for unfinished work (intake records every thread reply, before this lookup)."""
        event_id = body.get("event_id")
        if isinstance(event_id, str):
            try:
                await self.delivery.inbox.finish(inbox_key(event_id))
            except Exception as exc:
                log.warning("could not settle a passed-over event: %s", type(exc).__name__)

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

    async def _on_change(
        self, event: dict[str, Any], body: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> None:
        """An edit or deletion, applied once through the inbox: when applying it fails (the
        database is away) it is given back and applied later, by this process or another."""

        async def apply() -> bool:
            return await self._apply_change(event, context, client)

        event_id = body.get("event_id")
        if not isinstance(event_id, str):
            await apply()
            return
        if not await self.delivery.handle(inbox_key(event_id), CHANGES_LANE, apply, None):
            log.info(SKIPPED, extra={"event_id": event_id})

    async def _apply_change(
        self, event: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> bool:
        """True once the change is applied or is nothing to apply; False to retry later."""
        try:
            bot = context.bot_user_id
            names = await self.directory.names(client, mentions(edited_text(event)))
            change = to_message_change(
                event,
                team_id=context.team_id,
                bot_user_id=bot,
                names=names,
                enterprise_id=context.enterprise_id,
            )
            if isinstance(change, MessageDeleted):
                await self.engine.message_deleted(change)
            elif isinstance(change, MessageEdited):
                await self.engine.message_edited(change)
            return True
        except IdentityError as exc:
            log.warning("ignored a Slack message change: %s", exc, extra=_where(event))
            return True
        except Exception as exc:
            log.warning(
                "handling a Slack message change failed (%s): it will be retried",
                type(exc).__name__,
                extra=_where(event),
            )
            return False

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
        late = context.get(LATE_SECONDS)

        async def answer() -> bool:
            return await self._settle(event, context, client, in_thread=in_thread, late=late)

        async def busy() -> None:
            await self._post(event, client, BUSY, in_thread=in_thread)

        if not isinstance(event_id, str):
            await answer()  # no id to deduplicate by (not sent by the Events API)
            return
        person = f"{context.team_id}:{event.get('user')}"
        if not await self.delivery.handle(inbox_key(event_id), person, answer, busy):
            log.info(SKIPPED, extra={"event_id": event_id})

    async def _settle(
        self,
        event: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
        *,
        in_thread: bool,
        late: float | None,
    ) -> bool:
        """Answer; True once the event needs nothing more, False to try again later."""
        try:
            if late is not None and self.delivery.too_late(late):
                await self._post(event, client, TOO_LATE, in_thread=in_thread, must=True)
            else:
                await self._reply(event, context, client, in_thread=in_thread, late=late)
            return True
        except IdentityError as exc:
            log.warning("ignored a Slack event without usable ids: %s", exc, extra=_where(event))
            return True
        except Exception as exc:
            log.error(
                "handling a Slack message failed: %s",
                type(exc).__name__,
                exc_info=True,
                extra=_where(event),
            )
        # Never silence: apologize, or give the event back to be answered later.
        try:
            await self._post(event, client, APOLOGY, in_thread=in_thread, must=True)
            return True
        except Exception as exc:
            log.warning("could not apologize either (%s): will retry", type(exc).__name__)
            return False

    async def _post(
        self,
        event: Mapping[str, Any],
        client: AsyncWebClient,
        text: str,
        *,
        in_thread: bool,
        must: bool = False,
    ) -> None:
        """A short message where the answer goes; `must` re-raises a failure to send."""
        thread_ts = reply_thread_ts(event) if in_thread else event.get("thread_ts")
        args: dict[str, Any] = {"channel": event["channel"], "text": text}
        if thread_ts:
            args["thread_ts"] = thread_ts
        try:
            await client.chat_postMessage(**args)
        except Exception as exc:
            if must:
                raise
            log.warning("could not post a notice: %s", type(exc).__name__, extra=_where(event))

    async def _reply(
        self,
        event: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
        *,
        in_thread: bool,
        late: float | None = None,
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
        text = reply.text if late is None else f"{LATE_NOTE}\n{reply.text}"
        try:
            await post_answer(client, event["channel"], text, reply_ts)
        except SlackApiError as exc:  # refused for good (a deleted channel, ...): not retried
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
