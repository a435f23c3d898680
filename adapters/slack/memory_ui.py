"""/memory, its buttons and the App Home tab: each person sees and controls only their memory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import controls
from adapters.slack.controls import ButtonValue
from adapters.slack.directory import UserDirectory
from adapters.slack.ids import command_conversation, enterprise_of, slack_user
from adapters.slack.normalize import to_memory_command
from adapters.slack.render import Message, confirm_blocks, render_home, render_result, render_text
from memory import (
    CommandError,
    CommandResult,
    ConfirmForgetAll,
    ExportResult,
    IdentityError,
    MemoryCommand,
    MemoryEngine,
    ShowResult,
    UserRef,
)

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]

NOT_YOURS = (
    "Those buttons belong to someone else's memory, so I did nothing. `/memory show` lists yours."
)
EXPORT_TITLE = "Your memory export"


class MemoryUI:
    """/memory on Slack: the slash command, its buttons (in messages and on the App Home tab) and
    the Home tab itself. Every answer is ephemeral, and a button acts only for the person it was
    shown to."""

    def __init__(self, engine: MemoryEngine, directory: UserDirectory) -> None:
        self.engine = engine
        self.directory = directory
        self._refreshing: set[asyncio.Task[None]] = set()

    # ---- /memory ----------------------------------------------------------------------------

    async def on_command(
        self, ack: Any, command: dict[str, Any], respond: Respond, client: AsyncWebClient
    ) -> None:
        """The /memory slash command: acknowledged at once (Slack wants the ack within 3 seconds,
        https://docs.slack.dev/interactivity/implementing-slash-commands), then answered privately
        on the response_url; a list read while learning was running is replaced once it has
        finished. Bad input is answered with what was wrong."""
        await ack()  # within Slack's 3 seconds; the answer follows on the response_url
        refresh = None
        try:
            user = slack_user(
                command.get("user_id"),
                command.get("team_id"),
                enterprise_of(command),
                await self.directory.name(client, str(command.get("user_id") or "")),
            )
            parsed = to_memory_command(command.get("text"))
            where = command_conversation(command.get("team_id"), command.get("channel_id"))
            result = await self.engine.run_command(user, parsed, where)
            message = await self._message(result, user, client)
            if isinstance(result, ShowResult) and result.still_learning:
                refresh = self._refresh_shown(user, parsed, respond)
        except CommandError as exc:
            message = render_text(exc.message)
        except IdentityError as exc:
            log.warning("a /memory command without usable ids: %s", exc)
            message = render_text("I couldn't tell who you are, so I did nothing.")
        await respond(**message, response_type="ephemeral")
        if refresh is not None:
            self._later(refresh)

    # ---- buttons ----------------------------------------------------------------------------

    async def on_action(
        self,
        ack: Any,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: AsyncWebClient,
    ) -> None:
        """A button on a /memory answer or the Home tab (forget, why, forget all and its
        confirmation, pause, resume, undo, export, cancel): acknowledged at once; a press by anyone
        but the owner is refused. The answer replaces the message, or the Home tab is published
        again."""
        await ack()
        in_home = (body.get("container") or {}).get("type") == "view"
        try:
            presser = _presser(body)
        except IdentityError as exc:
            log.warning("a /memory button without usable ids: %s", exc)
            return
        value = ButtonValue.decode(action.get("value"))
        if value is None or value.owner != presser.key:
            log.warning(
                "refused a /memory button pressed by someone other than its owner",
                extra={"action_id": action.get("action_id"), "user": presser.key},
            )
            if not in_home:
                await respond(
                    **render_text(NOT_YOURS), response_type="ephemeral", replace_original=False
                )
            return
        action_id = str(action.get("action_id"))
        if action_id == controls.WHY:
            await self._why(presser, value.item_id, respond, client, in_home=in_home)
            return
        try:
            note, result = await self._press(action_id, presser, value, client)
        except CommandError as exc:
            note, result = exc.message, await self._show(presser)
        if in_home:
            top = confirm_blocks(result, presser) if isinstance(result, ConfirmForgetAll) else []
            show = result if isinstance(result, ShowResult) else await self._show(presser)
            await self.publish_home(client, presser, show, note=note, top=top)
            return
        message = await self._message(result, presser, client, note=note)
        await respond(**message, response_type="ephemeral", replace_original=True)

    async def _why(
        self,
        owner: UserRef,
        item_id: str,
        respond: Respond,
        client: AsyncWebClient,
        *,
        in_home: bool,
    ) -> None:
        """The "Why?" of one listed item, for its owner only (checked before this is called):
        a new private message under the list, or on top of the owner's App Home."""
        try:
            result = await self.engine.run_command(owner, MemoryCommand("why", item_id=item_id))
        except CommandError as exc:  # forgotten since the list was shown
            result = None
            text = exc.message
        if in_home:
            top = [] if result is None else render_result(result, owner)["blocks"]
            note = None if result is not None else text
            await self.publish_home(client, owner, await self._show(owner), note=note, top=top)
            return
        message = render_text(text) if result is None else render_result(result, owner)
        await respond(**message, response_type="ephemeral", replace_original=False)

    async def _press(
        self, action_id: str, owner: UserRef, value: ButtonValue, client: AsyncWebClient
    ) -> tuple[str | None, CommandResult]:
        """Carry out one button; returns a note for the top and what to show under it."""
        run = self.engine.run_command
        if action_id == controls.FORGET:
            done = await run(owner, MemoryCommand("forget", item_id=value.item_id))
            return done.as_text(), await self._show(owner)
        if action_id == controls.FORGET_ALL:
            return None, await run(owner, MemoryCommand("forget_all"))
        if action_id == controls.FORGET_ALL_CONFIRM:
            receipt = await run(owner, MemoryCommand("forget_all", confirmed=True))
            return receipt.as_text(), await self._show(owner)
        if action_id in (controls.PAUSE, controls.RESUME):
            toggle = MemoryCommand("pause" if action_id == controls.PAUSE else "resume")
            changed = await run(owner, toggle)
            return changed.as_text(), await self._show(owner)
        if action_id == controls.UNDO:
            # The notice is replaced by what the Undo did (or why it did nothing).
            return None, await run(owner, MemoryCommand("undo", item_id=value.item_id))
        if action_id == controls.EXPORT:
            exported = await run(owner, MemoryCommand("export"))
            assert isinstance(exported, ExportResult)
            return await self._send_export(exported, owner, client), await self._show(owner)
        return None, await self._show(owner)  # CANCEL, or a button from an older version

    # ---- App Home ---------------------------------------------------------------------------

    async def on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> None:
        """The person opened the bot's Home tab: publish their memory there (refreshed once learning
        that was running has finished)."""
        if event.get("tab", "home") != "home":
            return
        try:
            user = slack_user(event.get("user"), context.team_id, enterprise_of(body))
        except IdentityError as exc:
            log.warning("app_home_opened without usable ids: %s", exc)
            return
        shown = await self._show(user)
        await self.publish_home(client, user, shown)
        if shown.still_learning:
            self._later(self._refresh_home(client, user))

    async def publish_home(
        self,
        client: AsyncWebClient,
        user: UserRef,
        show: ShowResult,
        *,
        note: str | None = None,
        top: list[dict[str, Any]] | None = None,
    ) -> None:
        """Publish `show` on the user's Home tab (views.publish), with `note` and `top` blocks above
        the list; a failure is logged with Slack's error code, not raised."""
        view = render_home(show, user, note=note, top=top)
        try:
            await client.views_publish(user_id=_slack_id(user), view=view)
        except SlackApiError as exc:
            log.warning(
                "Slack views.publish failed: %s",
                exc.response.get("error"),
                extra={"user": user.key},
            )

    # ---- refreshing a list read while learning was still running --------------------------

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def _refresh_shown(self, user: UserRef, command: MemoryCommand, respond: Respond) -> None:
        """Replace the answer to /memory show once the learning it mentioned is done."""
        try:
            await self.engine.learn_now(user.key)
            fresh = await self.engine.run_command(user, command)
            await respond(**render_result(fresh, user), replace_original=True)
        except Exception:
            log.exception("refreshing a /memory show answer failed", extra={"user": user.key})

    async def _refresh_home(self, client: AsyncWebClient, user: UserRef) -> None:
        try:
            await self.engine.learn_now(user.key)
            await self.publish_home(client, user, await self._show(user))
        except Exception:
            log.exception("refreshing the App Home failed", extra={"user": user.key})

    # ---- helpers ----------------------------------------------------------------------------

    async def _show(self, user: UserRef) -> ShowResult:
        result = await self.engine.run_command(user, MemoryCommand("show"))
        assert isinstance(result, ShowResult)
        return result

    async def _message(
        self, result: CommandResult, user: UserRef, client: AsyncWebClient, note: str | None = None
    ) -> Message:
        if isinstance(result, ExportResult):
            return render_text(await self._send_export(result, user, client))
        return render_result(result, user, note=note)

    async def _send_export(
        self, result: ExportResult, user: UserRef, client: AsyncWebClient
    ) -> str:
        """Upload the export into the person's DM with the bot (never a shared channel)."""
        try:
            opened = await client.conversations_open(users=_slack_id(user))
            channel = opened["channel"]["id"]
            await client.files_upload_v2(
                channel=channel,
                filename=result.filename,
                content=result.json_text,
                title=EXPORT_TITLE,
                initial_comment="Here is everything I remember about you, as JSON.",
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("Slack export upload failed: %s", error, extra={"user": user.key})
            return f"I couldn't send your export file ({error}). Please try again later."
        return f"I sent your memory export to our DM as `{result.filename}`."


def _presser(body: dict[str, Any]) -> UserRef:
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id")
    return slack_user(user.get("id"), team, enterprise_of(body))


def _slack_id(user: UserRef) -> str:
    return user.id  # Slack user ids contain no "." so the key part is the id itself
