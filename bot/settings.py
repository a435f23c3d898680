"""Settings from the environment (or `.env`), read once and validated with clear messages.

pydantic-settings reads both: the environment first, then `.env` in the current folder (its
dotenv source, which also hands `.env`'s variables on to the provider packages, see
`_DotEnvToEnviron`). Comma-separated settings are split and checked here, nowhere else.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from langchain.chat_models.base import _attempt_infer_model_provider
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from memory import ConfigurationError, DeliveryConfig

# The provider packages read these themselves; we only check they exist for the chosen MODEL.
PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google_genai": "GOOGLE_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
}
# Where each provider package reads the server's address from (for the start-up check's
# message when the model does not answer).
PROVIDER_URLS = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "ollama": "OLLAMA_BASE_URL",
}


def comma_list(value: object) -> tuple[str, ...]:
    """`"a, b,,c"` -> `("a", "b", "c")`: a comma-separated setting's non-empty parts, stripped.
    Tuples and lists (settings given in code) pass through as tuples of their items."""
    if value is None:
        return ()
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise ValueError("must be a comma-separated list")


def key_list(value: object) -> tuple[str, ...]:
    """MEMORY_ENCRYPTION_OLD_KEYS: `["one, with a comma", "two"]` (a JSON list of strings, so
    any passphrase can be given) or `one, two` (comma-separated, for passphrases without a
    comma that do not start with `[` or `{`). Each key is kept as given, surrounding
    whitespace included (the key ring tries it with and without: see bot.engine.build_sealer),
    and blank ones are dropped. Raises ValueError, naming no key, for a value that starts with
    `[` or `{` but is not a JSON list of strings, and for anything else not a list."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, str) and value.strip().startswith(("[", "{")):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise ValueError(
                "starts with [ or { but is not a JSON list of strings (like "
                '\'["old key", "older key"]\'); passphrases that start with [ or { must be '
                "given in that form"
            )
        return tuple(item for item in parsed if item.strip())
    if isinstance(value, str):
        return tuple(part for part in value.split(",") if part.strip())
    if isinstance(value, (list, tuple)):
        items = [p.get_secret_value() if isinstance(p, SecretStr) else str(p) for p in value]
        return tuple(item for item in items if item.strip())
    return comma_list(value)


class _DotEnvToEnviron(PydanticBaseSettingsSource):
    """pydantic-settings' `.env` source, which also puts each of `.env`'s variables into the
    environment unless it is set there already: the provider packages read theirs from the
    environment (OPENAI_API_KEY, OPENAI_BASE_URL, ANTHROPIC_API_KEY, OLLAMA_BASE_URL, ...), and
    settings alone would read MODEL from `.env` and leave the rest unseen. Names are put in
    upper case (the source reads them case-insensitively, as the settings are)."""

    def __init__(self, settings_cls: type[BaseSettings], dotenv: DotEnvSettingsSource) -> None:
        super().__init__(settings_cls)
        self._dotenv = dotenv

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._dotenv.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        for name, value in self._dotenv.env_vars.items():
            if value is not None:
                os.environ.setdefault(name.upper(), value)
        return self._dotenv()


class Settings(BaseSettings):
    """Every setting the bot reads, from the environment and then `.env` (names are
    case-insensitive; see README "Configuration"). Validation errors are turned into one
    ConfigurationError line by get_settings."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The default order (arguments, environment, `.env`, secrets files); `.env` is also
        handed on to the environment (see _DotEnvToEnviron)."""
        assert isinstance(dotenv_settings, DotEnvSettingsSource)
        dotenv = _DotEnvToEnviron(settings_cls, dotenv_settings)
        return init_settings, env_settings, dotenv, file_secret_settings

    model: str = Field(default="", description="init_chat_model string, e.g. openai:gpt-4o-mini")
    extraction_model: str = ""
    # Any init_embeddings string (e.g. openai:text-embedding-3-small): recall ranks by meaning.
    embeddings: str = ""
    database_url: str = ""
    data_dir: Path = Path("data")
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str | None = None
    # Installs into many workspaces (OAuth) instead of one SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_redirect_uri: str | None = None
    # What an uninstall does to the workspace's memories: keep them, or erase them.
    slack_on_uninstall: Literal["keep", "erase"] = "keep"
    discord_token: SecretStr | None = None
    discord_api_url: str | None = None
    discord_guild_id: int | None = None
    discord_shard_count: int | None = None
    # Comma-separated shard ids this process runs, e.g. "0,1" (the total is DISCORD_SHARD_COUNT).
    discord_shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    port: int = 3000
    learn_after_seconds: float = 20.0
    learn_every_messages: int = 6
    react_when_learned: bool = True
    memory_show_wait_seconds: float = Field(default=3.0, ge=0)
    memory_notices: Literal["off", "reaction", "message"] = "message"
    memory_encryption_key: SecretStr | None = None
    # Keys used before the current one, still accepted for reading: a JSON list of strings
    # (any passphrase, commas included) or a comma-separated list (see `key_list`).
    memory_encryption_old_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # What the bot remembers: a Python file or module attribute with a list of memory kinds
    # (see bot.kinds); unset, the built-in profile, facts and todos.
    memory_kinds: str | None = None
    max_facts: int = 500
    max_todos: int = 200
    open_todo_days: int = 60
    finished_todo_days: int = 90
    summary_days: int = 30
    # Ask the model one short question at start, so a wrong address or key is said at once.
    check_model_at_start: bool = True
    # Delivery (see README "Delivery"): replies made at once, the wait before a person is told
    # the bot is busy, how long an unfinished event stays owned by the process that took it,
    # how often unfinished events are looked for, how old one may be and still be answered
    # (older ones get an apology), and how long SIGTERM waits for answers in flight.
    reply_concurrency: int = Field(default=8, ge=1)
    busy_notice_seconds: float = Field(default=15.0, gt=0)
    inbox_lease_seconds: float = Field(default=30.0, gt=0)
    inbox_recover_every_seconds: float = Field(default=10.0, gt=0)
    answer_late_within_seconds: float = Field(default=3600.0, ge=0)
    shutdown_drain_seconds: float = Field(default=20.0, ge=0)
    # After a new Discord gateway session, answer DMs and mentions from this far back (0: off).
    discord_catch_up_seconds: float = Field(default=900.0, ge=0)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: object) -> tuple[int, ...] | None:
        parts = comma_list(value)
        if not parts:
            return None
        try:
            return tuple(int(part) for part in parts)
        except (TypeError, ValueError):
            raise ValueError(
                f"must be whole numbers separated by commas, like 0,1 (got {value!r})"
            ) from None

    @field_validator("memory_encryption_old_keys", mode="before")
    @classmethod
    def _old_keys(cls, value: object) -> tuple[str | SecretStr, ...]:
        return key_list(value)

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must start with postgresql:// (or be unset for SQLite)")
        return value

    def delivery_config(self) -> DeliveryConfig:
        """The delivery inbox's timings (seconds) and reply concurrency from INBOX_*,
        ANSWER_LATE_WITHIN_SECONDS, SHUTDOWN_DRAIN_SECONDS, REPLY_CONCURRENCY and
        BUSY_NOTICE_SECONDS."""
        return DeliveryConfig(
            lease=self.inbox_lease_seconds,
            recover_every=self.inbox_recover_every_seconds,
            answer_within=self.answer_late_within_seconds,
            drain=self.shutdown_drain_seconds,
            concurrency=self.reply_concurrency,
            busy_after=self.busy_notice_seconds,
        )

    @property
    def slack_oauth_enabled(self) -> bool:
        """True when Slack runs as an installable app (SLACK_CLIENT_ID or SLACK_CLIENT_SECRET is
        set)."""
        return self.slack_client_id is not None or self.slack_client_secret is not None

    @property
    def slack_enabled(self) -> bool:
        """True when Slack is switched on (a bot token, or OAuth installs)."""
        return self.slack_bot_token is not None or self.slack_oauth_enabled

    @property
    def discord_enabled(self) -> bool:
        """True when DISCORD_TOKEN is set."""
        return self.discord_token is not None

    def check_model(self) -> None:
        """Raises ConfigurationError when MODEL is unset, names no provider, or its provider's
        API key variable (PROVIDER_KEYS, e.g. OPENAI_API_KEY) is not in the environment."""
        if not self.model:
            raise ConfigurationError(
                "MODEL is not set. Set MODEL to a LangChain model string, "
                "e.g. MODEL=openai:gpt-4o-mini (with OPENAI_API_KEY) or MODEL=ollama:llama3.1."
            )
        provider = self.provider
        if not provider:
            raise ConfigurationError(
                f"MODEL={self.model} names no provider: write it as provider:model, "
                "e.g. MODEL=openai:gpt-4o-mini or MODEL=ollama:llama3.1."
            )
        key = PROVIDER_KEYS.get(provider)
        if key and not os.environ.get(key):
            raise ConfigurationError(f"MODEL={self.model} needs {key}: set {key}.")

    @property
    def provider(self) -> str:
        """The LangChain provider of MODEL ("openai" for `openai:gpt-4o` and, as LangChain
        infers it, for `gpt-4o`); "" when there is none."""
        if ":" in self.model:
            return self.model.split(":", 1)[0]
        return _attempt_infer_model_provider(self.model) or ""

    def check_slack(self) -> None:
        """Raises ConfigurationError for Slack settings that make no working setup: OAuth without
        both client id and secret, a SLACK_BOT_TOKEN that is not a bot token (`xoxb-`), or a bot
        token with neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP Events)."""
        if self.slack_oauth_enabled:
            if not (self.slack_client_id and self.slack_client_secret):
                raise ConfigurationError("Set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET.")
            return  # the rest is checked where the app is built (adapters.slack.runner)
        if self.slack_bot_token is None:
            return
        if not self.slack_bot_token.get_secret_value().startswith("xoxb-"):
            raise ConfigurationError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ConfigurationError(
                "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
                "SLACK_SIGNING_SECRET (HTTP Events) is: set one of them."
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process (the environment, then `.env`, whose variables also
    reach the environment). Raises ConfigurationError naming each invalid setting."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {_message(err)}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None


def _message(error: Any) -> str:
    """A validator's own words, without pydantic's "Value error, " in front of them."""
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return str(error["msg"])
