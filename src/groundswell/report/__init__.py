"""The offline HTML report and the written brief (``groundswell report``).

``groundswell.report.html.write(store, ["metoo"], "report.html", brief_path="brief.md")``
writes one self-contained file; :mod:`.views` is what the report and the
dashboard show (through :mod:`groundswell.privacy`), :mod:`.brief` the
sentences, :mod:`.charts` the Vega-Lite specs. Nothing heavy is imported here.
"""

from __future__ import annotations
