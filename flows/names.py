"""File-name parts for free-text names (units, recipients): readable, unique and bounded."""

from __future__ import annotations

import hashlib
import re

from transforms.scopes import COMPANY

_NOT_WORD = re.compile(r"[\W_]+")
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,39}")  # kinds and period labels ("2025-12")


def name_part(text: str, max_chars: int = 40) -> str:
    """A readable slug plus a short stable hash of the exact text, e.g. 'rīga-5f0c8a1e'.

    The slug keeps letters of any script and drops everything else, so it is a valid file
    name anywhere; the hash keeps names apart that differ only in case or punctuation
    ('Tartu' / 'TARTU', 'Tallinn!' / 'Tallinn?'); the length is bounded whatever the name
    (a 300-character unit name still fits a file system's 255-byte limit).
    """
    slug = _NOT_WORD.sub("-", text.casefold()).strip("-")[:max_chars].strip("-")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest


def scope_part(scope: str) -> str:
    """'all' for the company-wide report, else the unit's or group's name_part."""
    return "all" if scope == COMPANY else name_part(scope)


def report_stem(kind: str, period: str, scope: str) -> str:
    """File stem of a report's files, e.g. 'scorecard_2025_all', 'scorecard_2025_rīga-5f0c8a1e'."""
    return f"{kind}_{period}_{scope_part(scope)}"


def key_folder(report_key: str) -> str:
    """A report key ('scorecard/2025/Rīga') as one folder name: its report stem, or a safe form of any other key."""
    parts = report_key.split("/", 2)
    if len(parts) == 3 and all(_PLAIN.fullmatch(p) for p in parts[:2]):
        return report_stem(*parts)
    return "_".join(p if _PLAIN.fullmatch(p) else name_part(p) for p in parts)
