"""Column names staging and duplicate resolution add to every source's rows (no imports: settings reads
them to keep question ids apart from them)."""

LINEAGE_COLUMNS = ("source_file", "source_line", "file_sha256", "file_order")
# Working columns of staging (besides the fields); a question id must not take these names, nor end in `__num`.
STAGING_COLUMNS = (
    "unit",
    "mode_code",
    "reason",
    "decision",
    "quick_ok",
    "valid_row",
    "shape_error",
    "submitted_at_utc",
)
# Working columns of transforms.normalise.resolve_duplicates, dropped again before anything is written.
RANKING_COLUMNS = (
    "winner_file",
    "winner_line",
    "is_winner",
    "stored_newer",
    "stored_row_hash",
    "stored_source_file",
    "stored_file_sha256",
)
