"""Settings in one place: `.env` read by pydantic-settings (and handed on to the provider
packages), comma-separated settings split and checked there, one clear line per mistake."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.engine import build_sealer
from bot.settings import Settings, comma_list, get_settings
from memory.errors import ConfigurationError
from memory.storage.sealing import AesGcmSealer, KeyRing

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
    # Each key as given (the sealer tries it stripped too): see the whitespace test below.
    assert [k.get_secret_value() for k in settings.memory_encryption_old_keys] == [
        "first key",
        " second",
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
    assert [k.get_secret_value() for k in keys] == ["one, with a comma", " two\n"]
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


@pytest.mark.parametrize("value", ['["k1", "k2"', "[", '{"a":1}', "[1,2]", '["k1", 2]', " [ "])
def test_old_keys_that_look_like_json_but_are_not_a_list_of_strings_are_refused(
    clean: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MEMORY_ENCRYPTION_KEY", "the key")
    monkeypatch.setenv("MEMORY_ENCRYPTION_OLD_KEYS", value)
    with pytest.raises(ConfigurationError) as refused:
        get_settings()
    message = str(refused.value)
    assert (
        message.startswith("invalid settings: MEMORY_ENCRYPTION_OLD_KEYS: ") and "\n" not in message
    )
    assert "JSON list of strings" in message and "k1" not in message  # never the keys


@pytest.mark.parametrize("given", ["legacy\n", '["legacy\\n"]', " legacy , other"])
def test_an_old_key_opens_what_it_sealed_with_or_without_its_surrounding_whitespace(
    clean: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    # Sealed by an earlier version whose key came from a secret file, newline and all (both
    # the scrypt and the former SHA-256 key of that exact value).
    raw = " legacy " if given.startswith(" ") else "legacy\n"
    earlier = AesGcmSealer(raw).seal({"content": "I keep bees"})
    former = _sha256_sealed(raw, {"content": "I keep wasps"})
    stripped = AesGcmSealer("legacy").seal({"content": "I keep ants"})
    monkeypatch.setenv("MEMORY_ENCRYPTION_KEY", "a new key")
    monkeypatch.setenv("MEMORY_ENCRYPTION_OLD_KEYS", given)
    sealer = build_sealer(get_settings())
    assert sealer is not None
    assert sealer.open(earlier) == {"content": "I keep bees"}
    assert sealer.open(former) == {"content": "I keep wasps"}
    assert sealer.open(stripped) == {"content": "I keep ants"}


def _sha256_sealed(secret: str, value: dict[str, Any]) -> dict[str, Any]:
    """A value sealed as versions before scrypt did: AES-GCM under SHA-256(passphrase)."""
    key = hashlib.sha256(secret.encode()).digest()
    key_id = hashlib.sha256(b"key-id" + key).hexdigest()[:8]
    nonce = os.urandom(12)
    data = nonce + AESGCM(key).encrypt(nonce, json.dumps(value).encode(), None)
    return {"sealed": f"aesgcm-{key_id}:{base64.b64encode(data).decode()}"}
