"""Settings in one place: `.env` read by pydantic-settings (and handed on to the provider
packages), comma-separated settings split and checked there, one clear line per mistake."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine import build_sealer
from bot.settings import Settings, comma_list, get_settings
from memory.errors import ConfigurationError
from memory.sealing import AesGcmSealer, KeyRing

PROVIDER = ("OPENAI_API_KEY", "OPENAI_BASE_URL")
READ = (
    "MODEL",
    "DISCORD_SHARD_IDS",
    "MEMORY_ENCRYPTION_KEY",
    "MEMORY_ENCRYPTION_OLD_KEYS",
    "PORT",
)


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty folder as the current one, none of these variables set; restored after."""
    for name in PROVIDER + READ:
        monkeypatch.setenv(name, "placeholder")  # so monkeypatch restores whatever was there
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_comma_lists_are_split_trimmed_and_typed(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_SHARD_IDS", " 0, 2,")
    monkeypatch.setenv("MEMORY_ENCRYPTION_OLD_KEYS", "first key, second,,")
    settings = get_settings()
    assert settings.discord_shard_ids == (0, 2)
    assert [k.get_secret_value() for k in settings.memory_encryption_old_keys] == [
        "first key",
        "second",
    ]
    assert "first key" not in repr(settings)


def test_unset_or_empty_lists_are_nothing(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert get_settings().discord_shard_ids is None
    assert get_settings().memory_encryption_old_keys == ()
    monkeypatch.setenv("DISCORD_SHARD_IDS", " , ")
    assert Settings().discord_shard_ids is None
    assert comma_list(["a", "b"]) == ("a", "b")


def test_a_bad_list_is_named_in_one_line(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_SHARD_IDS", "0,one")
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(ConfigurationError) as raised:
        get_settings()
    assert str(raised.value) == (
        "invalid settings: DISCORD_SHARD_IDS: must be whole numbers separated by commas, "
        "like 0,1 (got '0,one'); PORT: Input should be a valid integer, unable to parse "
        "string as an integer"
    )


def test_dotenv_is_read_by_the_settings_and_reaches_the_environment(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean / ".env").write_text(
        "MODEL=openai:from-dotenv\nDISCORD_SHARD_IDS=1,3\n"
        "OPENAI_BASE_URL=http://127.0.0.1:9/v1\nopenai_api_key=from-dotenv\n"
    )
    monkeypatch.setenv("PORT", "4000")
    monkeypatch.setenv("OPENAI_API_KEY", "from-the-environment")
    settings = get_settings()
    assert settings.model == "openai:from-dotenv"
    assert settings.discord_shard_ids == (1, 3)
    assert settings.port == 4000
    assert os.environ["OPENAI_BASE_URL"] == "http://127.0.0.1:9/v1"  # for the provider
    assert os.environ["OPENAI_API_KEY"] == "from-the-environment"  # the environment wins
    assert os.environ["MODEL"] == "openai:from-dotenv"


def test_the_environment_wins_over_dotenv(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean / ".env").write_text("MODEL=openai:from-dotenv\n")
    monkeypatch.setenv("MODEL", "openai:from-the-environment")
    assert get_settings().model == "openai:from-the-environment"


def test_old_keys_as_a_json_list_hold_any_passphrase(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORY_ENCRYPTION_OLD_KEYS", '["one, with a comma", " two\\n", ""]')
    keys = get_settings().memory_encryption_old_keys
    assert [k.get_secret_value() for k in keys] == ["one, with a comma", "two"]
    # Not a JSON list of strings: read as a comma-separated list, as before.
    monkeypatch.setenv("MEMORY_ENCRYPTION_OLD_KEYS", "[first, second")
    keys = Settings().memory_encryption_old_keys
    assert [k.get_secret_value() for k in keys] == ["[first", "second"]
    # Written in .env, as .env.example shows it.
    monkeypatch.delenv("MEMORY_ENCRYPTION_OLD_KEYS")
    (clean / ".env").write_text('MEMORY_ENCRYPTION_OLD_KEYS=\'["a, b", "c"]\'\n')
    keys = Settings().memory_encryption_old_keys
    assert [k.get_secret_value() for k in keys] == ["a, b", "c"]


def test_old_keys_without_a_current_key_are_refused(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORY_ENCRYPTION_OLD_KEYS", "the key we had")
    with pytest.raises(ConfigurationError) as refused:
        build_sealer(Settings())
    assert "MEMORY_ENCRYPTION_KEY" in str(refused.value) and "\n" not in str(refused.value)


def test_surrounding_whitespace_is_not_part_of_any_key(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A secret file's trailing newline: the same key as without it, current or old.
    monkeypatch.setenv("MEMORY_ENCRYPTION_KEY", "the key\n")
    sealer = build_sealer(Settings())
    assert sealer is not None
    sealed = sealer.seal({"content": "I keep bees"})
    assert KeyRing("the key").open(sealed) == {"content": "I keep bees"}
    monkeypatch.setenv("MEMORY_ENCRYPTION_KEY", "a new key")
    monkeypatch.setenv("MEMORY_ENCRYPTION_OLD_KEYS", " the key\n")
    rotated = build_sealer(Settings())
    assert rotated is not None and rotated.open(sealed) == {"content": "I keep bees"}
    # What earlier versions sealed with the unstripped value still opens.
    earlier = AesGcmSealer("the key\n").seal({"content": "I keep wasps"})
    monkeypatch.setenv("MEMORY_ENCRYPTION_KEY", "the key\n")
    monkeypatch.delenv("MEMORY_ENCRYPTION_OLD_KEYS")
    again = build_sealer(Settings())
    assert again is not None and again.open(earlier) == {"content": "I keep wasps"}
