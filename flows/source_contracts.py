"""Each record source's input contract as people read it: its fields, which are required, the form each
must have and the column titles that name it. `docs/sources.md` holds these tables (a test keeps them
equal): after changing a declaration, `python -m flows.source_contracts` rewrites them there."""

from __future__ import annotations

from transforms.staging import RECORD_SPECS
from transforms.staging.records import EXPECTED, RecordSpec

FORMS = {
    "id": "identifier (≤ 200 characters, no control characters)",
    "text": "free text",
    "personal": "free text - personal data, kept apart",
    "datetime": "date and time (ISO 8601, `31.12.2025 14:05`, or the profile's date order)",
    "date": "date (ISO 8601, `31.12.2025`, or the profile's date order)",
    "int": "whole number",
    "number": "number (`.` or `,` decimal; a trailing `%` is allowed)",
    "rating": "whole number on the question's scale",
    "bool": "yes/no, true/false, 1/0 (also jah/ei, jā/nē, да/нет)",
    "unit": "a unit or alias of `units` in config/pipeline.yaml",
    "codes": "theme codes or labels of config/coding_frame.yaml, `;`-separated",
    "theme": "one theme code or label of config/coding_frame.yaml",
    "topic": "codebook question id or code, else an open question's short name",
    "question": "codebook question id or code",
    "currency": "ISO 4217 code (`EUR`)",
    "language": "language code (`en`, `et`, `lv`, `ru`, `en-GB`)",
    "period": "`2025`, `2025-03`, `03/2025` or `2025-Q1`",
    "choice": "one of the listed values",
}
assert set(FORMS) >= set(EXPECTED)


def fields_table(spec: RecordSpec) -> str:
    """The source's fields as a Markdown table."""
    lines = ["| field | required | form | also titled | holds |", "|---|---|---|---|---|"]
    for f in spec.fields:
        form = FORMS[f.kind]
        if f.low is not None or f.high is not None:
            bounds = [f"≥ {f.low:g}" if f.low is not None else "", f"≤ {f.high:g}" if f.high is not None else ""]
            form += f" ({', '.join(b for b in bounds if b)})"
        if f.question_kinds:
            form += f" of kind {' or '.join(f.question_kinds)}"
        also = ", ".join(f"`{n}`" for n in f.names)
        lines.append(f"| `{f.name}` | {'yes' if f.required else ''} | {form} | {also} | {f.doc} |")
    return "\n".join(lines)


def contract_text(spec: RecordSpec) -> str:
    key = ", ".join(f"`{k}`" for k in spec.key)
    folder = f"`var/inbox/{spec.source}/`"
    return f"Folder {folder} - store table `{spec.table}`, one row per key ({key}).\n\n{fields_table(spec)}\n"


def all_contracts() -> dict[str, str]:
    return {spec.source: contract_text(spec) for spec in RECORD_SPECS}


def rewrite_doc(text: str) -> str:
    """`text` (docs/sources.md) with every source's contract replaced by the current one."""
    for name, contract in all_contracts().items():
        start = text.index(f"Folder `var/inbox/{name}/`")
        end = text.find("\n## ", start)
        text = text[:start] + contract + (text[end:] if end != -1 else "")
    return text


if __name__ == "__main__":
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "sources.md"
    doc.write_text(rewrite_doc(doc.read_text(encoding="utf-8")), encoding="utf-8")
