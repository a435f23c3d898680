"""The start-up check: one short question to the model, so a wrong address, key or model name
is reported at once, naming the variable to fix, instead of as an apology to the first person."""

from __future__ import annotations

import asyncio
import os

from langchain_core.language_models import BaseChatModel

from bot.settings import PROVIDER_KEYS, PROVIDER_URLS, Settings
from memory import ConfigurationError, failure_cause, model_failure

# Long enough for a cold local model to load; a real failure (refused, 401, 404) is quick.
CHECK_SECONDS = 60.0


async def check_model_answers(model: BaseChatModel, settings: Settings) -> None:
    """Ask `model` to say OK; raise ConfigurationError with one line naming what to fix
    (the provider's base URL variable, its API key variable, or MODEL) when it does not.
    Skipped with CHECK_MODEL_AT_START=false."""
    try:
        await asyncio.wait_for(model.ainvoke("Reply with the word OK."), CHECK_SECONDS)
    except Exception as exc:
        failure = model_failure(exc) or f"{type(exc).__name__}: {str(exc)[:200]}"
        raise ConfigurationError(
            f"MODEL={settings.model} did not answer: {failure}. {_advice(settings, failure)} "
            "(CHECK_MODEL_AT_START=false skips this check.)"
        ) from None


def _advice(settings: Settings, failure: str) -> str:
    provider = settings.provider
    url_variable = PROVIDER_URLS.get(provider)
    key_variable = PROVIDER_KEYS.get(provider)
    if failure_cause(failure) == "key" and key_variable:
        return f"Check {key_variable}."
    if url_variable:
        url = os.environ.get(url_variable)
        if not url:
            return f"Check MODEL, or set {url_variable} to the server's address."
        hint = " (OpenAI-compatible servers usually end in /v1)" if provider == "openai" else ""
        return f"Check {url_variable}={url}{hint} and MODEL."
    return "Check MODEL and the provider's settings."
