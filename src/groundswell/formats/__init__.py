"""Input formats: one module per format; :mod:`.detect` picks the right one."""

from groundswell.formats.detect import FORMAT_NAMES, json_format

__all__ = ["FORMAT_NAMES", "json_format"]
