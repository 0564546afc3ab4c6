"""Customer text and labels from data made safe to print: plain text, never markup.

Comments, segment and file names, reasons and configured wording all pass through here
before a template sees them; the templates escape what they print.
"""

from __future__ import annotations

import re
import unicodedata

# Control characters (C0 and C1 except the whitespace ones, which become spaces or line
# breaks first) and invisible direction / zero-width marks that can hide or reorder text:
# U+200B-U+200F, U+202A-U+202E, U+2066-U+2069, U+FEFF, plus the word joiner family
# U+2060-U+2064, U+061C (Arabic letter mark) and U+180E.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_LINE_BREAKS = re.compile("\r\n?|[\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")  # whitespace other than newline
_NEWLINES = re.compile(r" ?\n[\s]*")  # a line break and any blank lines after it
_PRECAP_FACTOR = 20  # work on at most this many times the kept length (bounds time on huge input)


def sanitise_text(text: str | None, max_chars: int) -> tuple[str, bool]:
    """Customer text made safe to print: (clean text, whether it was shortened).

    Drops NUL and other control characters except newline, zero-width and bidi
    override/isolate marks; NFC-normalises; collapses whitespace (keeping single line
    breaks); truncates to `max_chars` including a trailing ellipsis, at a word break when
    one is near. Returns plain text, never markup.
    """
    if not text:
        return "", False
    max_chars = max(2, max_chars)
    precap = max_chars * _PRECAP_FACTOR
    shortened = len(text) > precap
    text = _LINE_BREAKS.sub("\n", text[:precap])
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    text = _NEWLINES.sub("\n", _SPACES.sub(" ", text)).strip()
    if len(text) <= max_chars and not shortened:
        return text, False
    if len(text) > max_chars - 1:
        cut = text[: max_chars - 1]
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space >= int(0.8 * len(cut)):
            cut = cut[:space]
        text = cut
    return text.rstrip() + "…", True


def label(text: object, max_chars: int = 120) -> str:
    """A short label from data (segment, file name, reason) cleaned like a comment, on one line."""
    clean, _ = sanitise_text(None if text is None else str(text), max_chars)
    return clean.replace("\n", " ")


BANNER_LINES = 3  # the cover's room; the data-quality page lists every line in full
BANNER_CHARS = 150


def banner_texts(banner: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """The completeness gate's lines as a cover prints them ("banner": the first few, shortened, and how many
    more) and as the data-quality page lists them ("missing": all)."""
    shown = [label(line, BANNER_CHARS) for line in banner[:BANNER_LINES]]
    if len(banner) > BANNER_LINES:
        shown.append(f"… and {len(banner) - BANNER_LINES} more, listed on the data-quality page.")
    return {"banner": shown, "missing": [label(line, 400) for line in banner]}
