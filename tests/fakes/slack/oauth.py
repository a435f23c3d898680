"""The fake Slack's OAuth: `oauth.v2.access` for install codes and refresh tokens (token
rotation), and which workspace each bot token belongs to (what `auth.test` answers).

    slack.grant("code-T2", team_id="T2", bot_token="xoxb-T2")       # then the app's redirect
    slack.grant("code-T3", team_id="T3", bot_token="xoxb-T3a",       # a rotating token:
                refresh_token="xoxe-1", expires_in=60)                # refreshed on first use
    slack.revoke("T2")                                               # its tokens stop working
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from .recording import SlackRecorder
from .records import APP_ID, BOT_ID, BOT_USER_ID, JsonDict


@dataclass
class Grant:
    """What one workspace's install gives the app: a bot token, maybe a refresh token."""

    team_id: str
    bot_token: str
    team_name: str = ""
    installer: str = "U1"
    refresh_token: str | None = None
    expires_in: int | None = None
    scope: str = "chat:write,im:history"


@dataclass(eq=False)
class OAuthGrants(SlackRecorder):
    """Install codes (single use), refresh tokens, and the workspace of every issued token."""

    client_id: str = "CLIENT1"
    client_secret: str = "client-secret-1"
    codes: dict[str, Grant] = field(default_factory=dict, init=False)
    by_token: dict[str, Grant] = field(default_factory=dict, init=False)
    by_refresh: dict[str, Grant] = field(default_factory=dict, init=False)
    issued: set[str] = field(default_factory=set, init=False)
    _rotations: itertools.count[int] = field(default_factory=itertools.count, init=False)

    def grant(self, code: str, team_id: str, bot_token: str, **details: object) -> Grant:
        """Accept `code` once in oauth.v2.access, for an install into `team_id`."""
        grant = Grant(team_id, bot_token, **details)  # type: ignore[arg-type]
        self.codes[code] = grant
        return grant

    def revoke(self, team_id: str) -> None:
        """The workspace uninstalled the app: its tokens are no longer valid."""
        for index in (self.by_token, self.by_refresh):
            for key in [k for k, g in index.items() if g.team_id == team_id]:
                del index[key]

    def _oauth_v2_access(self, args: JsonDict) -> JsonDict:
        if (args.get("client_id"), args.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            old = self.by_refresh.pop(str(args.get("refresh_token")), None)
            if old is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            self.by_token.pop(old.bot_token, None)
            turn = next(self._rotations)
            grant = Grant(
                old.team_id,
                f"{old.bot_token}-r{turn}",
                old.team_name,
                old.installer,
                f"{old.refresh_token}-r{turn}",
                43_200,  # Slack's rotating tokens live 12 hours
                old.scope,
            )
        else:
            found = self.codes.pop(str(args.get("code")), None)
            if found is None:
                return {"ok": False, "error": "invalid_code"}
            grant = found
        self.by_token[grant.bot_token] = grant
        self.issued.add(grant.bot_token)
        body: JsonDict = {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": grant.installer},
            "scope": grant.scope,
            "token_type": "bot",
            "access_token": grant.bot_token,
            "bot_user_id": BOT_USER_ID,
            "team": {"id": grant.team_id, "name": grant.team_name or grant.team_id},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if grant.refresh_token:
            self.by_refresh[grant.refresh_token] = grant
            body.update(refresh_token=grant.refresh_token, expires_in=grant.expires_in)
        return body

    def _identity(self, token: str | None) -> JsonDict:
        """auth.test for `token`: its workspace, or the default team for tokens not issued here."""
        grant = self.by_token.get(token or "")
        if grant is None and token in self.issued:
            return {"ok": False, "error": "invalid_auth"}  # revoked or rotated away
        team_id = grant.team_id if grant else self.team_id
        return {
            "ok": True,
            "url": f"https://{team_id.lower()}.fake.slack.com/"
            if grant
            else "https://fake.slack.com/",
            "team": grant.team_name if grant else self.team,
            "user": "memorybot",
            "team_id": team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }
