"""The HTTP API and the dashboard of `cxbench serve`: FastAPI over `cxbench.compute`, read-only over one source.

Every parameter is typed (enums for closed sets, dates as dates) and checked against the catalog and the data
before any work; nothing a request sends becomes SQL text, it only chooses among the options the API already has.
Results are cached per distinct query and source version (`cache.py`). Errors are JSON with a `message`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, StringConstraints
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxbench import __version__
from cxbench.core.benchmarks import BenchmarkLibrary
from cxbench.core.errors import CxbenchError, UsageError
from cxbench.core.options import Period, TimeUnit
from cxbench.metrics import METRICS_BY_ID, REGISTRY
from cxbench.output import redact
from cxbench.server.cache import RETRY_AFTER, ResultCache, Saturated, TimedOut, fingerprint

log = logging.getLogger("cxbench.server")

#: A metric id of the catalog (the OpenAPI document lists them).
MetricId = StrEnum("MetricId", {m.id: m.id for m in REGISTRY})  # type: ignore[misc]
#: A vertical of the built-in benchmark library.
Vertical = StrEnum("Vertical", {v: v for v in BenchmarkLibrary.builtin().vertical_names})  # type: ignore[misc]

#: customers columns that identify or date a customer: no segment
_NOT_SEGMENTS = {"customer_id", "signup_at"}


class Format(StrEnum):
    """What /api/scorecard answers with: the JSON document or the flat CSV."""

    json = "json"
    csv = "csv"


#: the values a closed parameter allows, said in its 422
ALLOWED: dict[str, list[str]] = {
    "period": [p.value for p in Period], "vertical": [v.value for v in Vertical],
    "metric": [m.value for m in MetricId], "metric_id": [m.value for m in MetricId],
    "time_unit": [t.value for t in TimeUnit], "format": ["json", "csv"],
}
COOKIE = "cxbench_token"
_DATE_WINDOW = r"^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$"
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

#: CSP of everything but the pages: nothing may run or load
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
#: CSP of the dashboard: scripts only as files of this server; Plotly sets inline styles
DASHBOARD_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                 "connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'self'; "
                 "frame-ancestors 'none'")

SegmentColumn = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]


class ErrorBody(BaseModel):
    """Every error: a message that names the fix, the allowed values when a value is not one of them."""

    message: str
    allowed: list[str] | None = None
    errors: list[dict[str, Any]] | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str, allowed: list[str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.allowed, self.headers = status, message, allowed, headers


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No or a wrong token (a server bound beyond loopback needs one)."},
    422: {"model": ErrorBody, "description": "A parameter is not allowed; `allowed` lists the values that are."},
    503: {"model": ErrorBody, "description": "The engine is saturated, the computation outlasted the time limit, or "
                                             "DuckDB ran out of memory (the message says so; `cxbench serve "
                                             "--memory-limit` raises it): retry after the Retry-After header's "
                                             "seconds."},
}


@dataclass(frozen=True)
class ScorecardQuery:
    """The options of one scorecard request, in a canonical (hashable) form: the cache key."""

    period: Period = Period.MONTH
    from_: dt.date | None = None
    to: dt.date | None = None
    segment: tuple[str, ...] = ()
    compare: str | None = None
    vertical: str | None = None
    metrics: tuple[str, ...] = ()

    def compute_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"period": self.period, "from_": self.from_, "to": self.to,
                                "segment": list(self.segment) or None, "metrics": list(self.metrics) or None}
        if self.compare:
            args["compare"] = self.compare
        if self.vertical:
            args["vertical"] = self.vertical
        return args

    def query_string(self) -> str:
        pairs: list[tuple[str, str]] = [("period", self.period.value)]
        pairs += [(k, v.isoformat()) for k, v in (("from", self.from_), ("to", self.to)) if v]
        pairs += [("segment", s) for s in self.segment] + [("metric", m) for m in self.metrics]
        pairs += [(k, v) for k, v in (("compare", self.compare), ("vertical", self.vertical)) if v]
        return urlencode(pairs)


def scorecard_query(
    period: Annotated[Period, Query(description="Reporting period of each record.")] = Period.MONTH,
    from_: Annotated[dt.date | None, Query(alias="from", description="First day (inclusive, YYYY-MM-DD).")] = None,
    to: Annotated[dt.date | None, Query(description="Last day (inclusive, YYYY-MM-DD).")] = None,
    segment: Annotated[list[SegmentColumn], Query(
        max_length=4, description="A customers column to repeat the metrics for each value of (repeatable); "
                                  "a 422 lists the columns the data has.")] = [],  # noqa: B006 (FastAPI copies it)
    compare: Annotated[str | None, Query(
        pattern=_DATE_WINDOW, description="A window FROM..TO (inclusive dates) every record is compared with, "
                                          "e.g. 2026-03-01..2026-03-31.")] = None,
    vertical: Annotated[Vertical | None, Query(description="Industry whose benchmark bands rate the values.")] = None,
) -> ScorecardQuery:
    if from_ and to and from_ > to:
        raise ApiError(422, f"from {from_} is after to {to}: give from <= to")
    return ScorecardQuery(period=period, from_=from_, to=to, segment=tuple(dict.fromkeys(segment)), compare=compare,
                          vertical=vertical.value if vertical else None)


MetricsParam = Annotated[list[MetricId], Query(
    alias="metric", max_length=len(REGISTRY),
    description="Compute only these metrics (repeatable; default all). The catalog is GET /api/metrics.")]


class _Guard:
    """Pure ASGI middleware: the token on every request (constant-time), the security headers on every answer."""

    def __init__(self, app: ASGIApp, token: str | None, trusted_hosts: set[str] | None) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.trusted_hosts = trusted_hosts

    def _presented(self, scope: Scope) -> bytes | None:
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                return value[7:].strip()
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                for part in value.split(b";"):
                    key, _, text = part.strip().partition(b"=")
                    if key == COOKIE.encode():
                        return text
        query = scope.get("query_string", b"")
        for part in query.split(b"&"):
            key, _, text = part.partition(b"=")
            if key == b"token":
                from urllib.parse import unquote_to_bytes

                return unquote_to_bytes(text.replace(b"+", b" "))
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.trusted_hosts is not None:
            host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.trusted_hosts:  # a DNS-rebinding page reaching a loopback server
                await _error(421, f"host {host!r} is not this server's; open it as http://127.0.0.1:PORT/")(
                    scope, receive, send)
                return
        if self.token is not None:
            presented = self._presented(scope) or b""
            if not hmac.compare_digest(presented, self.token):
                response = _error(401, "this server needs its token: send `Authorization: Bearer TOKEN` (or open "
                                       "the dashboard once as /?token= followed by the token)", headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Frame-Options"] = "DENY"
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = API_CSP
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class Body:
    """A rendered answer, kept with its gzip form and its ETag so a cached answer costs no work to send again."""

    raw: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def of(cls, raw: bytes) -> Body:
        import gzip

        digest = hashlib.sha256(raw).hexdigest()[:32]
        return cls(raw, gzip.compress(raw, compresslevel=5, mtime=0), f'"{digest}"')

    def response(self, request: Request, media_type: str) -> Response:
        """200 with the body (gzip when the client accepts it), or 304 when the client holds this version."""
        headers = {"ETag": self.etag, "Vary": "Accept-Encoding", "Cache-Control": "no-cache"}
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", "") and len(self.gzipped) < len(self.raw):
            return Response(self.gzipped, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
        return Response(self.raw, media_type=media_type, headers=headers)


def _error(status: int, message: str, allowed: list[str] | None = None, headers: dict[str, str] | None = None,
           errors: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": redact(message)}
    if allowed is not None:
        body["allowed"] = allowed
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


@cache
def _static(name: str) -> bytes:
    """The dashboard's files: the report's script and style (one chart definition, two uses), Plotly, its own."""
    from cxbench.report import asset, plotly_js

    if name == "plotly.min.js":
        return plotly_js().encode()
    if name in ("report.js", "report.css"):
        return asset(name).encode()
    return resources.files("cxbench.server").joinpath("static", name).read_bytes()


@cache
def _static_body(name: str) -> Body:
    return Body.of(_static(name))


@cache
def _pages() -> Environment:
    return Environment(loader=PackageLoader("cxbench.server", "static"), autoescape=select_autoescape(["j2", "html"]))


def _script_hashes(page: str) -> str:
    """CSP hashes of a page's inline scripts (the report inlines Plotly and its script; its data are JSON)."""
    hashes = []
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S):
        if "application/json" in attrs:
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return " ".join(hashes)


def create_app(source: str | Path, *, token: str | None = None, benchmarks: str | Path | None = None,
               workers: int = 2, queue: int = 8, timeout: float = 120.0,
               trusted_hosts: set[str] | None = None, metrics: tuple[str, ...] = (), freshness: float = 0.5,
               memory_limit: str | None = None, compute: Callable[..., Any] | None = None) -> FastAPI:
    """The API and dashboard over `source`. `token`: required on every request when given. `workers`: computations
    at once; `queue`: more waiting before a 503; `timeout`: seconds a request waits for its result.
    `trusted_hosts`: Host header names accepted (loopback when serving without a token). `metrics`: the metric
    ids a request without `metric=` computes (default all). `freshness`: seconds a listing of the source's files
    is trusted before it is taken again (a change is seen within that). `memory_limit`: what each computation's
    DuckDB may use (as `--memory-limit`; default a quarter of the machine's memory). `compute`: the
    scorecard function (default `cxbench.compute`; tests count calls through it)."""
    import cxbench.api as api
    from cxbench.core.sources import duckdb_memory_limit, engine_message, out_of_memory

    source = str(source)
    duckdb_memory_limit(memory_limit)  # a wrong amount (or $CXBENCH_MEMORY_LIMIT) fails now, not at a request
    limit = {"memory_limit": memory_limit} if memory_limit else {}
    unknown = [m for m in metrics if m not in METRICS_BY_ID]
    if unknown:
        raise UsageError(f"unknown metric {', '.join(unknown)}; `cxbench metrics` lists them all")
    compute_card = compute or api.compute
    results = ResultCache(source, workers=workers, queue=queue, timeout=timeout, freshness=freshness)
    app = FastAPI(
        title="cxbench", version=__version__,
        description="Customer-experience KPIs of one source, with intervals and benchmark bands: the same typed "
                    "records as `cxbench run --format json` (docs/contract.md). Read-only.",
        responses=ERRORS, docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.results = results

    # -- errors: JSON with a message, never a traceback ---------------------------------------------------------

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.allowed, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors, allowed = [], None
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path"))
            errors.append({"parameter": where, "message": str(e.get("msg", ""))})
            name = next((str(p) for p in e.get("loc", ())[1:2]), "")
            if name in ALLOWED and e.get("type") == "enum":
                allowed = ALLOWED[name]
        message = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors) or "invalid request"
        return _error(422, message, allowed, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        hint = "; the endpoints are listed at /api/docs" if exc.status_code == 404 else ""
        return _error(exc.status_code, f"{exc.detail}{hint}", headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request %s failed", request.url.path)
        return _error(500, f"internal error ({type(exc).__name__}); the server's log has the details")

    async def cached(kind: str, key: Any, work: Callable[[], Any]) -> Any:
        try:
            return await results.get(kind, key, work)
        except Saturated:
            raise ApiError(503, "the engine is busy with other computations; retry shortly",
                           headers={"Retry-After": str(RETRY_AFTER)}) from None
        except TimedOut:
            raise ApiError(503, f"the computation is still running after {timeout:g} s; retry shortly (its result "
                                "will be cached)", headers={"Retry-After": str(RETRY_AFTER)}) from None
        except CxbenchError as exc:  # a request this data cannot answer (too few orders for CLV...): its message
            if exc.__cause__ is not None and out_of_memory(exc.__cause__):  # reading or validating a file
                raise ApiError(503, str(exc), headers={"Retry-After": str(RETRY_AFTER)}) from None
            raise ApiError(422, str(exc)) from None
        except Exception as exc:
            if not out_of_memory(exc):
                raise
            # The machine's limit, not a bug (nor cached: a retry may fit once other computations end).
            raise ApiError(503, f"DuckDB ran out of memory computing this ({engine_message(exc)}); retry when fewer computations "
                                "run, ask for fewer metrics, or restart `cxbench serve` with a larger --memory-limit "
                                "(default: a quarter of the machine's memory)",
                           headers={"Retry-After": str(RETRY_AFTER)}) from None

    async def segment_columns() -> list[str]:
        def read() -> list[str]:
            from cxbench.core.sources import open_source
            from cxbench.core.validation import validate

            dataset = open_source(source, only={"customers"}, **limit)
            validation = validate(dataset, only={"customers"})
            table, raw = validation.tables.get("customers"), dataset.tables.get("customers")
            if table is None or raw is None:
                return []
            # the columns the file has (validation adds the contract's missing optional ones, all null)
            return sorted(c for c in set(table.expr.columns) & set(raw.expr.columns)
                          if c not in _NOT_SEGMENTS and not c.startswith("_"))

        return await cached("columns", None, read)

    async def checked(query: ScorecardQuery) -> ScorecardQuery:
        if query.segment:
            allowed = await segment_columns()
            unknown = [s for s in query.segment if s not in allowed]
            if unknown:
                choices = ", ".join(allowed) or "(none: the source has no customers columns to segment by)"
                raise ApiError(422, f"segment {', '.join(unknown)}: not a column of the customers table; use one of "
                                    f"{choices}", allowed)
        return query

    async def scorecard(query: ScorecardQuery) -> Any:
        query = await checked(query)
        if not query.metrics and metrics:
            query = ScorecardQuery(**{**asdict(query), "metrics": tuple(metrics)})
        return await cached("scorecard", query, lambda: compute_card(source, benchmarks=benchmarks, **limit,
                                                                     **query.compute_args()))

    async def rendered(kind: str, query: ScorecardQuery, render: Callable[[Any], Any]) -> Any:
        card = await scorecard(query)
        return await cached(kind, query, lambda: render(card))

    # -- the API ---------------------------------------------------------------------------------------------------

    @app.get("/healthz", tags=["server"], summary="Liveness and the source's version")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "cxbench_version": __version__, "source_version": fingerprint(source)}

    @app.get("/api/metrics", tags=["catalog"], summary="The metric catalog (`cxbench metrics --format json`)")
    async def catalog() -> list[dict[str, Any]]:
        from cxbench.render import catalog_records

        return catalog_records()

    @app.get("/api/scorecard", tags=["scorecard"], summary="The scorecard (docs/contract.md's JSON document)",
             responses={200: {"content": {"application/json": {}, "text/csv": {}},
                              "description": "The scorecard as JSON, or its flat records as CSV."}})
    async def get_scorecard(
        request: Request,
        query: Annotated[ScorecardQuery, _depends(scorecard_query)],
        metric: MetricsParam = [],  # noqa: B006
        format: Annotated[Format, Query(description="json (default: docs/contract.md's document) or csv (one flat "
                                                    "row per record).")] = Format.json,
    ) -> Response:
        query = ScorecardQuery(**{**asdict(query), "metrics": tuple(m.value for m in dict.fromkeys(metric))})
        if format is Format.csv:
            from cxbench.render import to_csv

            body = await rendered("csv", query, lambda card: Body.of(to_csv(card).encode()))
            return body.response(request, "text/csv; charset=utf-8")
        body = await rendered("json", query, lambda card: Body.of(card.to_json(indent=None).encode()))
        return body.response(request, "application/json")

    @app.get("/api/metrics/{metric_id}", tags=["scorecard"], summary="One metric's records and its catalog entry")
    async def one_metric(
        request: Request,
        metric_id: Annotated[MetricId, PathParam(description="A metric id of GET /api/metrics.")],
        query: Annotated[ScorecardQuery, _depends(scorecard_query)],
    ) -> Response:
        from cxbench.render import catalog_records

        query = ScorecardQuery(**{**asdict(query), "metrics": (metric_id.value,)})

        def render(card: Any) -> Body:
            import json

            document = card.to_dict()
            document["metrics"] = [r for r in document["metrics"] if r["id"] == metric_id.value]
            document["findings"] = [f for f in document["findings"] if f["metric"] == metric_id.value]
            document["metric"] = next(m for m in catalog_records() if m["id"] == metric_id.value)
            return Body.of(json.dumps(document, ensure_ascii=False, allow_nan=False).encode())

        return (await rendered(f"metric:{metric_id.value}", query, render)).response(request, "application/json")

    @app.get("/api/validation", tags=["scorecard"],
             summary="Rows read, used and set aside per table, with the reasons (`cxbench validate`)")
    async def validation() -> dict[str, Any]:
        def work() -> dict[str, Any]:
            return {"source": redact(source), **api.check(source, **limit).to_dict()}

        return await cached("validation", None, work)

    @app.get("/api/clv", tags=["scorecard"], summary="Predicted customer lifetime value (`cxbench clv`)")
    async def clv(
        calibration_end: Annotated[dt.date, Query(description="Last day of the orders the models are fitted on; "
                                                              "later orders are the holdout.")],
        time_unit: Annotated[TimeUnit, Query(description="Unit of recency, T and the horizon.")] = TimeUnit.DAY,
        horizon: Annotated[float | None, Query(gt=0, le=36500, description="Forecast horizon in time units "
                                                                           "(default 12 months).")] = None,
        discount_rate: Annotated[float, Query(ge=0, lt=1, description="Monthly discount rate.")] = 0.01,
        customers: Annotated[int, Query(ge=0, le=100_000, description="Per-customer rows to include (the "
                                                                      "highest values first).")] = 100,
    ) -> Response:
        key = (calibration_end, time_unit, horizon, discount_rate, customers)

        def work() -> bytes:
            import json

            result = api.predict_clv(source, calibration_end=calibration_end, time_unit=time_unit, horizon=horizon,
                                     discount_rate=discount_rate, **limit)
            document = result.to_dict()
            # the highest predicted values first, as `cxbench clv` lists them
            document["customers"] = sorted(document["customers"], key=lambda r: -(r["clv"] or 0))[:customers]
            return json.dumps(document, ensure_ascii=False, allow_nan=False).encode()

        return Response(await cached("clv", key, work), media_type="application/json")

    @app.get("/api/report", tags=["scorecard"], summary="The HTML report of this view (`cxbench report`)",
             responses={200: {"content": {"text/html": {}}, "description": "The report: one HTML page."}})
    async def report(query: Annotated[ScorecardQuery, _depends(scorecard_query)]) -> Response:
        def render(card: Any) -> tuple[str, str]:
            from cxbench.report import render_html

            page = render_html(card, benchmarks)
            return page, _script_hashes(page)

        page, hashes = await rendered("report", query, render)
        csp = (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; img-src data: blob:; "
               "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        return HTMLResponse(page, headers={"Content-Security-Policy": csp})

    @app.get("/api/view", tags=["dashboard"], summary="The dashboard's view: the report's sections and chart data")
    async def view(request: Request, query: Annotated[ScorecardQuery, _depends(scorecard_query)]) -> Response:
        def render(card: Any) -> Body:
            import json

            from cxbench.report import build_model, render_view

            html, data = render_view(build_model(card, benchmarks))
            return Body.of(json.dumps({"query": query.query_string(), "html": html, "data": data},
                                      ensure_ascii=False, allow_nan=False).encode())

        return (await rendered("view", query, render)).response(request, "application/json")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> Response:
        """Swagger UI (its script and style from the jsDelivr CDN, as FastAPI serves it); its one inline script
        allowed by hash."""
        from fastapi.openapi.docs import get_swagger_ui_html

        page = get_swagger_ui_html(openapi_url="/api/openapi.json", title="cxbench API").body.decode()
        cdn = "https://cdn.jsdelivr.net"
        csp = (f"default-src 'none'; script-src {cdn} {_script_hashes(page)}; style-src {cdn} 'unsafe-inline'; "
               f"img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; base-uri 'none'; "
               "frame-ancestors 'none'")
        return HTMLResponse(page, headers={"Content-Security-Policy": csp})

    # -- the dashboard ---------------------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def dashboard(request: Request) -> Response:
        if "token" in request.query_params:  # checked by the guard: kept in a cookie, dropped from the address
            response: Response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, request.query_params["token"], httponly=True, samesite="strict")
            return response
        try:
            columns = await segment_columns()
        except ApiError:
            columns = []
        page = _pages().get_template("dashboard.html.j2").render(
            source=redact(source), version=__version__, periods=ALLOWED["period"], verticals=ALLOWED["vertical"],
            segments=columns)
        return HTMLResponse(page, headers={"Content-Security-Policy": DASHBOARD_CSP})

    @app.get("/static/{name}", include_in_schema=False)
    async def static(request: Request, name: Annotated[str, PathParam(pattern=r"^[a-z.]+\.(js|css)$")]) -> Response:
        if name not in ("plotly.min.js", "report.js", "report.css", "dashboard.js", "dashboard.css"):
            raise ApiError(404, f"no file {name}")
        return _static_body(name).response(request, _STATIC_TYPES[Path(name).suffix])

    app.add_middleware(_Guard, token=token, trusted_hosts=trusted_hosts)  # outside the routes' error handling
    return app


def _depends(function: Callable[..., Any]) -> Any:
    from fastapi import Depends

    return Depends(function)


__all__ = ["ApiError", "ErrorBody", "MetricId", "ScorecardQuery", "Vertical", "create_app"]

