"""The logger slack-bolt's own loggers are cut from: quiet at INFO, and no request bodies.

slack-bolt builds one logger per middleware and listener (`slack_bolt.logger.get_bolt_logger`)
and copies onto each, at construction, the *level and filters of the app's base logger* (the
`logger=` given to `AsyncApp`), or the root level when there is none. So `setLevel` on
`slack_bolt` does not stick; the base logger is what decides. `RequestVerification` logs the
whole body of a rejected request (message text included, and whatever a stranger typed) at
INFO: the filter here cuts the body off any bolt record, at every level.
"""

from __future__ import annotations

import logging
import re

# "Invalid request signature detected (signature: ..., timestamp: ..., body: {...})"
_BODY = re.compile(r"(,?\s*body:).*", re.S)


class HideRequestBodies(logging.Filter):
    """Replaces everything from `body:` on with `[hidden]` in slack-bolt's records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """logging.Filter hook: a record whose message holds `body:` ends in `body: [hidden])`
        instead; every record is kept (always True)."""
        message = record.getMessage()
        if "body:" in message:
            record.msg, record.args = _BODY.sub(r"\1 [hidden])", message), None
        return True


def bolt_base_logger() -> logging.Logger:
    """The `logger=` for `AsyncApp`: WARNING and up unless the root logger is at DEBUG (when
    someone is debugging, bolt's DEBUG records are wanted), and never a request body."""
    base = logging.getLogger("slack_bolt.App")
    debugging = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    base.setLevel(logging.DEBUG if debugging else logging.WARNING)
    if not any(isinstance(f, HideRequestBodies) for f in base.filters):
        base.addFilter(HideRequestBodies())
    return base
