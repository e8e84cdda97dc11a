"""The HTML report: one self-contained file (Plotly's JavaScript inlined, no network) drawn from a scorecard's
typed records. `cxbench report` and `Scorecard.to_html()` write it; `make demo` writes the demo company's."""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from cxbench import __version__
from cxbench.core.benchmarks import BenchmarkLibrary
from cxbench.core.registry import format_value
from cxbench.report.model import ReportModel, build_model, segment_label

if TYPE_CHECKING:
    from cxbench.analyses.drivers import KeyDrivers
    from cxbench.analyses.funnel import Funnel
    from cxbench.analyses.paths import TopPaths
    from cxbench.api import Scorecard
    from cxbench.analyses.themes import CommentThemes
    from cxbench.lifetime_value import ClvForecast

__all__ = ["asset", "build_model", "plotly_js", "render_html", "render_view", "write_html"]


def _clean(value: Any) -> Any:
    """NaN and infinities as null (the records never hold them; this keeps the page's JSON valid whatever)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def script_json(data: Any) -> Markup:
    """JSON safe inside a <script> element: `<`, `>` and `&` as \\u escapes, so a value such as `</script>`
    cannot end the element (the JSON still parses to the same text)."""
    text = json.dumps(_clean(data), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@cache
def _plotly() -> tuple[str, str]:
    import plotly
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # never so far; an inline script must not hold its own end tag
        js = js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")
    return js, plotly.__version__


@cache
def _environment() -> Environment:
    env = Environment(loader=PackageLoader("cxbench.report", "templates"), autoescape=select_autoescape(["j2", "html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def signed(value: float | None, unit: str) -> str:
        if value is None:
            return ""
        text = f"{value:.1f} pt" if unit == "percent" else format_value(value, unit)
        return ("+" if value > 0 else "") + text

    env.globals.update(fmt=format_value, signed=signed, segment_label=segment_label, version=__version__)
    env.globals["chart_block"] = lambda chart, wide=False: Markup(
        env.get_template("_chart.html.j2").render(chart=chart, wide=wide))
    return env


def asset(name: str) -> str:
    """A file of the report's templates folder (report.js, report.css), as text."""
    return resources.files("cxbench.report").joinpath("templates", name).read_text(encoding="utf-8")


def plotly_js() -> str:
    """The bundled plotly.min.js the report inlines (the dashboard serves it as a file)."""
    return _plotly()[0]


def render_view(model: ReportModel) -> tuple[str, Any]:
    """The report's header and sections without the page around them, and the charts' data (NaN as null): what
    the `cxbench serve` dashboard puts in place and hands to report.js for each new view."""
    return _environment().get_template("_view.html.j2").render(m=model), _clean(model.payload())


def render_model(model: ReportModel) -> str:
    """The page of a report model."""
    js, plotly_version = _plotly()
    return _environment().get_template("report.html.j2").render(
        m=model, payload=script_json(model.payload()), css=Markup(asset("report.css")), js=Markup(asset("report.js")),
        plotly_js=Markup(js), plotly_version=plotly_version)


def render_html(card: Scorecard, benchmarks: str | Path | BenchmarkLibrary | None = None,
                clv: ClvForecast | None = None, themes: CommentThemes | None = None,
                drivers: KeyDrivers | None = None, *, funnel: Funnel | None = None,
                paths: TopPaths | None = None) -> str:
    """The report of `card` as one HTML document. `benchmarks`: a --benchmarks file whose bands are shaded behind
    the trends (default: the library the card was rated with, else the built-in one; the run's vertical either
    way). `clv`: a `cxbench.predict_clv` forecast, whose holdout check (predicted against actual purchases) is
    drawn too. `themes`: a `cxbench.comment_themes` result, shown as 'Why it moved: comment themes'. `drivers`: a
    `cxbench.key_drivers` result, shown as the section "Why it moved: key drivers". `funnel`, `paths`: a
    `cxbench.funnel` and a `cxbench.top_paths` result, shown as 'Why it moved: funnel'."""
    return render_model(build_model(card, benchmarks, clv, themes=themes, drivers=drivers, funnel=funnel,
                                    paths=paths))


def write_html(card: Scorecard, path: str | Path, benchmarks: str | Path | BenchmarkLibrary | None = None,
               clv: ClvForecast | None = None, themes: CommentThemes | None = None,
               drivers: KeyDrivers | None = None, *, funnel: Funnel | None = None,
               paths: TopPaths | None = None) -> Path:
    """Write the report of `card` to `path` whole or not at all (folders made as needed)."""
    from cxbench.output import write_atomically

    path = Path(path)
    write_atomically(path, render_html(card, benchmarks, clv, themes=themes, drivers=drivers, funnel=funnel,
                                       paths=paths))
    return path
