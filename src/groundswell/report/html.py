"""The offline report: one self-contained HTML file (scripts, styles and data inlined).

:func:`render` analyzes a movement, passes the answer through the privacy
layer (:mod:`.views`), writes the brief (:mod:`.brief`) and draws the charts
(:mod:`.charts`, Vega-Lite) with the Vega / Vega-Lite / vega-embed runtime
that ``vl-convert-python`` carries (:func:`runtime`), all inlined. A
Content-Security-Policy in the file allows only its own two scripts (by
hash) and no connection at all, so nothing in it can load or send anything.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from groundswell.errors import UsageError

__all__ = ["render", "write", "runtime", "script_json", "ASSETS"]

ASSETS = Path(__file__).resolve().parent / "assets"
INSTALL = "pip install 'groundswell[report]'"


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise UsageError(f"the report needs {module.split('.')[0]}: {INSTALL}") from None


@functools.lru_cache(maxsize=1)
def runtime() -> str:
    """The Vega, Vega-Lite and vega-embed runtime as one script (window.vegaEmbed), safe to inline."""
    vlc = _need("vl_convert")
    js: str = vlc.javascript_bundle()
    # an inline script ends at the first '</script' whatever the JS means: break the sequence
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def vl_version() -> str:
    vlc = _need("vl_convert")
    return str(getattr(vlc, "__version__", "?"))


def script_json(obj: Any) -> str:
    """JSON that is safe inside a <script type="application/json"> element (no '<', '>', '&')."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _sha(js: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode() + "'"


@functools.lru_cache(maxsize=1)
def environment() -> Any:
    jinja2 = _need("jinja2")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ASSETS)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    return env


def asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def analyze_views(store: Any, hashtags: Any, start: Any = None, end: Any = None, interval: str = "hour",
                  presenter: Any = None, followers: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(analysis result, views) for a movement."""
    from groundswell.analysis import analyze
    from groundswell.report.views import Presenter, build_views

    result = analyze(store, hashtags, start, end, interval, followers=followers)
    pr = presenter or Presenter(store)
    return result, build_views(store, result, pr)


def render_views(views: dict[str, Any], db: str = "") -> str:
    """The HTML report of computed views."""
    from groundswell import __version__
    from groundswell.report import brief, charts

    specs = charts.charts(views)
    init = asset("init.js")
    js = runtime()
    csp = ("default-src 'none'; script-src " + _sha(js) + " " + _sha(init) + " 'unsafe-eval'; "
           "style-src 'unsafe-inline'; img-src data:; font-src data:; connect-src 'none'; "
           "form-action 'none'; base-uri 'none'")
    tpl = environment().get_template("report.html.j2")
    page: str = tpl.render(v=views, specs=specs, missing=charts.missing(views), specs_json=script_json(specs),
                           brief=brief.sentences(views), title=brief.title(views), css=asset("style.css"),
                           runtime=js, init=init, csp=csp, version=__version__, vl_version=vl_version(),
                           db=Path(db).name if db else "",
                           generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    return page


def render(store: Any, hashtags: Any, start: Any = None, end: Any = None, interval: str = "hour",
           identify: bool = False, followers: str | None = None) -> tuple[str, dict[str, Any]]:
    """(HTML, views) of a movement's report."""
    from groundswell.report.views import Presenter

    _need("jinja2")
    runtime()
    pr = Presenter(store, identify=identify)
    _, views = analyze_views(store, hashtags, start, end, interval, pr, followers)
    return render_views(views, getattr(store, "path", "")), views


def write(store: Any, hashtags: Any, output: str, *, brief_path: str | None = None, **kw: Any) -> dict[str, Any]:
    """Write the report (and the brief as Markdown); return the views."""
    from groundswell.report import brief

    html, views = render(store, hashtags, **kw)
    Path(output).write_text(html, encoding="utf-8")
    if brief_path:
        Path(brief_path).write_text(brief.markdown(views), encoding="utf-8")
    return views
