"""Long text to message-sized parts, for every platform: cuts at paragraph, then line, then
sentence, then word boundaries; a code fence cut in two is closed at the end of one part and
reopened (same fence, same language) at the start of the next; indentation is never stripped.

Pure functions, no platform imports: Slack and Discord each pass their own limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A fence line: up to 3 spaces, then ``` or ~~~ (3 or more), then an info string (language).
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})([^`]*)$")
# Where a long line may be cut, best first: after a sentence, then at any space.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class _Piece:
    """A line, or a piece of a line too long for one part; `joiner` goes before it when it
    follows the previous piece in the same part ("\n" between lines, the cut whitespace
    between the pieces of one line)."""

    text: str
    joiner: str
    fence_after: str | None  # the opening fence line still open after this piece


def split_text(text: str, limit: int) -> list[str]:
    """`text` as parts of at most `limit` characters each, in order, none empty.

    Joined back, the parts hold every non-whitespace character of `text` in order, plus the
    fence lines added to close and reopen a code block cut in two (with a `limit` under
    20, too small to hold them, fences are text like any other). Outside a code block a
    part's leading whitespace is dropped, as the platforms drop it. Raises ValueError for a
    `limit` under 2.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    pieces = _pieces(text, limit)
    parts: list[str] = []
    start, open_fence = 0, None
    while start < len(pieces):
        end = _fill(pieces, start, open_fence, limit)
        end = _better_end(pieces, start, end)
        part = _render(pieces, start, end, open_fence)
        if part.strip():
            parts.append(part)
        open_fence = pieces[end - 1].fence_after
        start = end
    return parts


def _pieces(text: str, limit: int) -> list[_Piece]:
    """The lines of `text`, each tracked for the fence open after it; a line longer than a
    part can hold (leaving room to reopen and close a fence) is cut into several pieces."""
    pieces: list[_Piece] = []
    fence: str | None = None
    for line in text.replace("\r\n", "\n").split("\n"):
        match = _FENCE.match(line) if limit >= 20 else None
        if match:
            marker = match.group(1)
            if fence is None:
                # A fence is reopened in every part it spans: an absurdly long one is
                # reopened as a plain fence of its kind.
                fence = line.strip() if len(line.strip()) <= limit // 4 else marker[0] * 3
            elif _closes(fence, marker) and not match.group(2).strip():
                fence = None
        room = limit - 2 * (len(fence or "") + 1) if fence else limit
        room = max(room, limit // 2)
        for index, chunk in enumerate(_cut_line(line, room)):
            joiner = "\n" if index == 0 else chunk[1]
            pieces.append(_Piece(chunk[0], joiner, fence))
    return pieces


def _closes(opening: str, marker: str) -> bool:
    """A closing fence uses the opening's character, at least as many times."""
    opened = re.match(r"`+|~+", opening)
    return (
        opened is not None and marker[0] == opened.group()[0] and len(marker) >= len(opened.group())
    )


def _cut_line(line: str, room: int) -> list[tuple[str, str]]:
    """A line as (piece, whitespace cut before it) pairs of at most `room` characters."""
    chunks: list[tuple[str, str]] = []
    cut_before = ""
    while len(line) > room:
        at = _cut_point(line, room)
        gap = re.match(r"\s*", line[at:]).group()  # type: ignore[union-attr]
        chunks.append((line[:at], cut_before))
        cut_before, line = gap, line[at + len(gap) :]
    chunks.append((line, cut_before))
    return chunks


def _cut_point(line: str, room: int) -> int:
    """Where to cut a too-long line: the last sentence end, else space, in the second half
    of what fits; else the last space at all (the leading one last: a piece of only
    indentation carries nothing); else mid-word at `room`."""
    window = line[: room + 1]
    for pattern in (_SENTENCE_END, _SPACE):
        found = [m for m in pattern.finditer(window) if 0 < m.start() <= room]
        good = [m for m in found if m.start() > room // 2]
        best = good or found
        if best:
            return best[-1].start()
    if window[:1].isspace():
        return 0
    return room


def _closing(fence: str | None) -> str:
    """The line that closes `fence` ("" when no fence is open)."""
    if not fence:
        return ""
    marker = re.match(r"`+|~+", fence)
    return "\n" + (marker.group() if marker else "```")


def _fill(pieces: list[_Piece], start: int, open_fence: str | None, limit: int) -> int:
    """The largest end such that pieces[start:end], with the fence reopened before and
    closed after, fit in `limit`; at least one piece (pieces are cut to fit alone)."""
    size = (len(open_fence) + 1 if open_fence else 0) + len(pieces[start].text)
    end = start + 1
    while end < len(pieces):
        piece = pieces[end]
        grown = size + len(piece.joiner) + len(piece.text)
        if grown + len(_closing(piece.fence_after)) > limit:
            break
        size, end = grown, end + 1
    return end


def _better_end(pieces: list[_Piece], start: int, end: int) -> int:
    """Move a cut back to the last paragraph break (a blank line outside code) in the second
    half of the part's characters, else to the last line end there; never leave a fence
    opening last."""
    if end >= len(pieces):
        return end
    reach = [0]
    for piece in pieces[start:end]:
        reach.append(reach[-1] + len(piece.joiner) + len(piece.text))
    late = [cut for cut in range(end - 1, start, -1) if reach[cut + 1 - start] > reach[-1] // 2]
    for cut in late:
        if not pieces[cut].text.strip() and pieces[cut].fence_after is None:
            return cut + 1
    if pieces[end].joiner != "\n":  # mid-line: cut at a line end if one is near
        end = next((cut + 1 for cut in late if pieces[cut + 1].joiner == "\n"), end)
    before = pieces[end - 2].fence_after if end - 1 > start else None
    last = pieces[end - 1]
    if end - 1 > start and before is None and last.fence_after and _FENCE.match(last.text):
        return end - 1
    return end


def _render(pieces: list[_Piece], start: int, end: int, open_fence: str | None) -> str:
    chosen = pieces[start:end]
    body = "".join((p.joiner if i else "") + p.text for i, p in enumerate(chosen))
    # Blank lines at the edges of a part carry nothing; leading spaces of code do.
    body = _strip_blank_lines(body).rstrip()
    body = f"{open_fence}\n{body}" if open_fence else body.lstrip()
    return body + _closing(chosen[-1].fence_after)


def _strip_blank_lines(text: str) -> str:
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() if not line.strip() else line for line in lines)
