"""Twitter compliance-job results (``twitter-compliance``): one deletion per line.

A batch-compliance job answers with lines ``{"id", "action": "delete",
"created_at", "redacted_at"?, "reason"}`` (reason: deleted, suspended,
protected, deactivated, scrub_geo, ...). Each becomes a deletion of that id
with reason ``compliance:<reason>``, deleted at ``redacted_at`` when given.
The implementation lives beside the v2 page parser
(:mod:`groundswell.formats.twitter_v2`); this module gives it the format
module shape (NAME, sniff, parse) the detector loads.

Users-compliance results have the same shape (their ids are account ids);
they are read the same way.
"""

from __future__ import annotations

from groundswell.formats.twitter_v2 import COMPLIANCE_NAME as NAME
from groundswell.formats.twitter_v2 import parse_compliance as parse
from groundswell.formats.twitter_v2 import sniff_compliance as sniff

__all__ = ["NAME", "sniff", "parse"]
