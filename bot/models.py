"""Chat models from a MODEL string, via LangChain's init_chat_model."""

from __future__ import annotations

from langchain.chat_models import init_chat_model
from langchain.embeddings import init_embeddings
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from memory import ConfigurationError

# Providers whose LangChain package is an optional extra of this project: `pip install
# "memory-bot[<extra>]"` installs it.
EXTRAS = {"ollama": "ollama"}


def load_model(spec: str, *, timeout: float = 60.0, max_retries: int = 2) -> BaseChatModel:
    """The chat model for a MODEL string; ConfigurationError naming MODEL (and the extra to
    install, for a provider whose package is optional) when it cannot be built."""
    try:
        return init_chat_model(spec, timeout=timeout, max_retries=max_retries)
    except ImportError as exc:
        provider = spec.split(":", 1)[0]
        extra = EXTRAS.get(provider)
        if extra:
            raise ConfigurationError(
                f"MODEL={spec} needs the langchain-{provider} package: "
                f'pip install "memory-bot[{extra}]" (or pip install langchain-{provider}).'
            ) from None
        raise ConfigurationError(f"MODEL={spec} could not be loaded: {exc}") from None
    except ValueError as exc:
        raise ConfigurationError(f"MODEL={spec} could not be loaded: {exc}") from None


def load_embeddings(spec: str) -> Embeddings:
    """The embeddings model of an EMBEDDINGS spec (`provider:model`, LangChain's
    init_embeddings). Raises ConfigurationError when the provider's package is missing or the
    spec cannot be read."""
    try:
        return init_embeddings(spec)
    except (ImportError, ValueError) as exc:
        raise ConfigurationError(f"EMBEDDINGS={spec} could not be loaded: {exc}") from exc
