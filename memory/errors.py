"""One error root for the core.

MemoryBotError
 +-- ConfigurationError    a setting is missing or invalid (names the variable to set)
 +-- IdentityError         a message or command arrived without a usable user or conversation id
 +-- CommandError          a /memory command could not be carried out; `message` is for the user
 +-- ExtractionFailed      the model never produced a valid memory update; nothing was written
 +-- ModelUnavailable      the model kept failing (errors, timeouts); worth retrying later
"""


class MemoryBotError(Exception):
    """Root of every error the bot raises on purpose."""


class ConfigurationError(MemoryBotError):
    """A setting is missing or invalid."""


class IdentityError(MemoryBotError):
    """A user or conversation id is missing or malformed."""


class CommandError(MemoryBotError):
    """A /memory command was refused; the text is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ExtractionFailed(MemoryBotError):
    """The model never produced a valid update; the stored memory was left unchanged."""


class ModelUnavailable(MemoryBotError):
    """The model kept raising during an update; nothing was written and it may work later."""
