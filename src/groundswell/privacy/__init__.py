"""Care for the people in the data: one declaration of which fields name people; pseudonyms,
withholding, redaction, forgetting, retention.

Everything that leaves the store (report, brief, dashboard, exports,
``analyze --json``, ``network``) goes through this package. The defaults
protect the people in the data; every opt-out is explicit and every output
says which mode it is in (:func:`privacy_header`). One module per concern:

* :mod:`.fields` which columns and JSON paths name people, per output layout;
* :mod:`.policy` what an output may show (:class:`Policy`) and its notice;
* :mod:`.pseudonyms` keyed pseudonyms and the public-figure rule;
* :mod:`.withholding` whose text may appear;
* :mod:`.redaction` e-mails, phone numbers and street addresses out of text;
* :mod:`.outputs` tables, analysis results, networks and exports through all of the above;
* :mod:`.forgetting` posts and accounts out of every table and the file's bytes;
* :mod:`.retention` the store's expiry date and its settings.

``docs/privacy.md`` states the rules as the code applies them.
"""

from __future__ import annotations

from groundswell.privacy.fields import LAYOUTS, ROLES, Field, Layout
from groundswell.privacy.forgetting import ForgetResult, apply_deletions, compact, forget, read_id_file
from groundswell.privacy.outputs import (
    Shareable,
    export_safely,
    export_transform,
    pseudonymize_network,
    pseudonymize_result,
    pseudonymize_table,
)
from groundswell.privacy.policy import DEFAULT_MIN_FOLLOWERS, Policy, mark_private, privacy_header
from groundswell.privacy.pseudonyms import (
    ACCOUNT_PREFIX,
    LABEL_HEX,
    POST_PREFIX,
    LabelIndex,
    Pseudonymizer,
    ensure_pseudonym_key,
    ensure_secret,
    store_secret,
)
from groundswell.privacy.redaction import redact, redact_posts_table, redact_store_enabled
from groundswell.privacy.retention import check_retention, set_expiry, settings
from groundswell.privacy.withholding import (
    DISCLOSURE_LABELS,
    PLACEHOLDERS,
    WITHHELD,
    Tally,
    Withholder,
    disclosure_keys,
    safe_text,
)

__all__ = [
    "ACCOUNT_PREFIX",
    "DEFAULT_MIN_FOLLOWERS",
    "DISCLOSURE_LABELS",
    "LABEL_HEX",
    "LAYOUTS",
    "PLACEHOLDERS",
    "POST_PREFIX",
    "ROLES",
    "WITHHELD",
    "Field",
    "ForgetResult",
    "LabelIndex",
    "Layout",
    "Policy",
    "Pseudonymizer",
    "Shareable",
    "Tally",
    "Withholder",
    "apply_deletions",
    "check_retention",
    "compact",
    "disclosure_keys",
    "ensure_pseudonym_key",
    "ensure_secret",
    "export_safely",
    "export_transform",
    "forget",
    "mark_private",
    "privacy_header",
    "pseudonymize_network",
    "pseudonymize_result",
    "pseudonymize_table",
    "read_id_file",
    "redact",
    "redact_posts_table",
    "redact_store_enabled",
    "safe_text",
    "set_expiry",
    "settings",
    "store_secret",
]
