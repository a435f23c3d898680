"""Chat models from a MODEL string, via LangChain's init_chat_model."""

from __future__ import annotations

from langchain.chat_models import init_chat_model
from langchain.embeddings import init_embeddings
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from memory.errors import ConfigurationError


def load_model(spec: str, *, timeout: float = 60.0, max_retries: int = 2) -> BaseChatModel:
    try:
        return init_chat_model(spec, timeout=timeout, max_retries=max_retries)
    except (ImportError, ValueError) as exc:
        raise ConfigurationError(f"MODEL={spec} could not be loaded: {exc}") from exc


def load_embeddings(spec: str) -> Embeddings:
    try:
        return init_embeddings(spec)
    except (ImportError, ValueError) as exc:
        raise ConfigurationError(f"EMBEDDINGS={spec} could not be loaded: {exc}") from exc
