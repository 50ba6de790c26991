"""Errors groundswell raises. The CLI turns each into a one-line message that
says how to fix it and a non-zero exit status.

    GroundswellError
    ├── UsageError           bad arguments or options
    ├── StoreError           the store cannot be opened or is not a groundswell store
    ├── FormatError          a file is in no known format (names the formats tried)
    ├── RecordError          one record cannot be read (the ingest skips and counts it)
    ├── SourceError          a live source cannot be reached, or sends what cannot be skipped
    └── MissingExtra         an optional part is not installed (names the pip line)
"""

from __future__ import annotations


class GroundswellError(Exception):
    """Base of every error groundswell raises on purpose."""

    exit_code = 1


class UsageError(GroundswellError):
    exit_code = 2


class StoreError(GroundswellError):
    pass


class FormatError(GroundswellError):
    pass


class RecordError(GroundswellError):
    pass


class SourceError(GroundswellError):
    pass


class MissingExtra(GroundswellError):
    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs an optional part: pip install 'groundswell[{extra}]'")
        self.extra = extra
