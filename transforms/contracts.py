"""dataframely, imported for every data contract of the project (`from transforms.contracts import dy`).

dataframely imports SQLAlchemy when it is installed (Prefect installs it) to offer SQL column
types we do not use; that costs ~0.7 s on every command. When nothing has imported SQLAlchemy
yet, it is hidden for the duration of dataframely's import, then made importable again.
"""

from __future__ import annotations

import sys

_hide = "sqlalchemy" not in sys.modules
if _hide:
    sys.modules["sqlalchemy"] = None  # type: ignore[assignment]  # makes `import sqlalchemy` fail at once
try:
    import dataframely as dy
finally:
    if _hide:
        del sys.modules["sqlalchemy"]

# A contract failure names rules and counts, never rows: rows are customer text. (The default; pinned
# here so an environment variable DATAFRAMELY_MAX_FAILURE_EXAMPLES cannot turn examples on.)
dy.Config.options["max_failure_examples"] = 0

__all__ = ["dy"]
