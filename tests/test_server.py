"""`cxbench serve` (issue 17): the HTTP API, its cache and limits, the token, the dashboard in Chromium, and
`cxbench watch` posting to a local webhook receiver.

The data are 80 customers and 80 NPS answers over two months; the apps compute NPS and CES only (`metrics=`),
so a computation takes well under a second. Expected NPS values are worked by hand from the answer counts
(Reichheld 2003: % promoters (9-10) minus % detractors (0-6)).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

import cxbench
from cxbench.core.errors import UsageError

with warnings.catch_warnings():  # Starlette's test client asks for httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from cxbench.server import create_app, serve
from cxbench.server.app import ErrorBody
from conftest import answers, write_tables

HOSTILE_REGION = "<img src=x onerror=alert(1)>"
METRICS = ("nps", "ces")
# September: 20 promoters, 10 passives, 10 detractors of 40 -> (20 - 10) / 40 = 25.0.
# October: 15 promoters, 15 passives, 10 detractors of 40 -> (15 - 10) / 40 = 12.5.
NPS = {"2026-09-01": 25.0, "2026-10-01": 12.5}


def _tables() -> dict[str, Any]:
    customers = [{"customer_id": f"c{i}", "signup_at": "2026-01-01", "plan": "pro" if i % 2 else "basic",
                  "region": HOSTILE_REGION if i < 40 else "eu"} for i in range(80)]
    rows = (answers("nps", {10: 20, 8: 10, 3: 10}, ts="2026-09-10T12:00:00Z")
            + answers("nps", {9: 15, 7: 15, 2: 10}, start=40, ts="2026-10-10T12:00:00Z"))
    return {"customers": customers, "surveys": rows}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tables(tmp_path_factory.mktemp("serve") / "data", _tables())


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[TestClient]:
    with TestClient(create_app(folder, metrics=METRICS)) as c:
        yield c


def _counting(delay: float = 0.0, gate: threading.Event | None = None) -> tuple[Callable[..., Any], list[dict]]:
    calls: list[dict] = []

    def compute(source: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        if gate is not None:
            gate.wait(10)
        time.sleep(delay)
        return cxbench.compute(source, **kwargs)

    return compute, calls


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    ErrorBody.model_validate(body)
    assert "Traceback" not in response.text
    return body


# -- the endpoints ---------------------------------------------------------------------------------------------------

def test_health_and_catalog(client: TestClient):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["cxbench_version"] == cxbench.__version__
    catalog = client.get("/api/metrics").json()
    from cxbench.metrics import REGISTRY

    assert [m["id"] for m in catalog] == [m.id for m in REGISTRY]


def test_scorecard_is_the_cli_document_with_hand_worked_values(client: TestClient, folder: Path):
    response = client.get("/api/scorecard")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    document = response.json()
    expected = cxbench.compute(folder, metrics=list(METRICS)).to_dict()
    for key in ("generated_at",):
        document.pop(key), expected.pop(key)
    assert document == expected
    nps = {r["period_start"]: r["value"] for r in document["metrics"] if r["id"] == "nps" and not r["segment"]}
    assert nps == pytest.approx(NPS)


def test_cached_answers_carry_an_etag_and_go_gzipped(client: TestClient):
    first = client.get("/api/scorecard", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip" and first.json()["metrics"]
    again = client.get("/api/scorecard", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    plain = client.get("/api/scorecard", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == first.json()


def test_scorecard_options_and_segment_values_checked_against_the_data(client: TestClient):
    document = client.get("/api/scorecard", params={"period": "all", "segment": "plan", "from": "2026-09-01",
                                                    "to": "2026-10-31"}).json()
    overall = [r for r in document["metrics"] if r["id"] == "nps" and not r["segment"]]
    # all 80 answers: 35 promoters, 20 detractors -> (35 - 20) / 80 = 18.75
    assert [r["value"] for r in overall] == [pytest.approx(18.75)]
    assert {r["segment"].get("plan") for r in document["metrics"] if r["id"] == "nps"} == {None, "pro", "basic"}
    windowed = client.get("/api/scorecard", params={"compare": "2026-09-01..2026-09-30", "vertical": "saas",
                                                    "metric": "nps"}).json()
    october = next(r for r in windowed["metrics"] if r["period_start"] == "2026-10-01" and not r["segment"])
    assert october["compared_with"]["value"] == pytest.approx(25.0)  # September's NPS, the window
    body = _error(client.get("/api/scorecard", params={"segment": "colour"}), 422)
    assert body["allowed"] == ["plan", "region"] and "colour" in body["message"]


@pytest.mark.parametrize(("params", "allowed"), [
    ({"period": "fortnight"}, ["day", "week", "month", "quarter", "year", "all"]),
    ({"vertical": "mining"}, None),
    ({"metric": "no_such_metric"}, None),
    ({"from": "2026-13-01"}, None),
    ({"from": "2026-10-02", "to": "2026-10-01"}, None),
    ({"compare": "last week"}, None),
    ({"compare": "2026-10-31..2026-10-01"}, None),
    ({"segment": "plan; DROP TABLE customers"}, None),
    ({"format": "xml"}, None),
])
def test_bad_parameters_are_422_with_a_message(client: TestClient, params: dict[str, str], allowed: list | None):
    body = _error(client.get("/api/scorecard", params=params), 422)
    assert body["message"]
    if allowed is not None:
        assert body["allowed"] == allowed
    if "vertical" in params or "metric" in params:
        assert body["allowed"]  # the verticals, the metric ids


def test_one_metric_and_unknown_metric(client: TestClient):
    document = client.get("/api/metrics/nps", params={"period": "month"}).json()
    assert {r["id"] for r in document["metrics"]} == {"nps"} and document["metric"]["id"] == "nps"
    assert {r["period_start"]: r["value"] for r in document["metrics"]} == pytest.approx(NPS)
    body = _error(client.get("/api/metrics/net_promoter"), 422)
    assert "nps" in body["allowed"] and "net_promoter" not in body["allowed"]


def test_validation_csv_and_clv(client: TestClient):
    inputs = client.get("/api/validation").json()["inputs"]
    assert inputs["surveys"]["rows"] == 80 and inputs["customers"]["used"] == 80
    csv_text = client.get("/api/scorecard", params={"format": "csv"}).text
    from cxbench.api import FLAT_COLUMNS

    assert csv_text.splitlines()[0].replace('"', "").split(",") == [name for name, _ in FLAT_COLUMNS]
    body = _error(client.get("/api/clv", params={"calibration_end": "2026-09-30"}), 422)  # no orders table
    assert "orders" in body["message"]
    _error(client.get("/api/clv", params={"calibration_end": "2026-09-30", "discount_rate": "2"}), 422)


def test_report_and_dashboard_headers_escape_and_csp(client: TestClient):
    report = client.get("/api/report", params={"segment": "region"})
    assert report.status_code == 200 and report.headers["x-content-type-options"] == "nosniff"
    csp = report.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0] and csp.count("'sha256-") == 2
    assert HOSTILE_REGION not in report.text
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "<script>" not in page.text and "onerror" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    view = client.get("/api/view", params={"segment": "region"}).json()
    assert HOSTILE_REGION not in view["html"] and "&lt;img src=x" in view["html"]
    assert f"region={HOSTILE_REGION}" in view["data"]["segments"]  # as data, drawn as text by report.js
    for name in ("plotly.min.js", "report.js", "dashboard.js", "report.css"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"
    _error(client.get("/static/secret.py"), 422)
    _error(client.get("/static/other.js"), 404)


def test_errors_are_json_without_a_traceback(folder: Path):
    def broken(source: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals at /home/x")

    with TestClient(create_app(folder, metrics=METRICS, compute=broken), raise_server_exceptions=False) as c:
        body = _error(c.get("/api/scorecard"), 500)
        assert "RuntimeError" in body["message"] and "secret internals" not in body["message"]
        assert _error(c.get("/nothing/here"), 404)["message"].startswith("Not Found")
        _error(c.post("/api/scorecard"), 405)


def test_running_out_of_memory_is_a_503_saying_how_to_raise_the_limit_and_a_retry_computes_again(folder: Path):
    import duckdb

    calls = []

    def starved(source: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("memory_limit"))
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB (1.9 GiB/"
                                          "1.9 GiB used)")

    with TestClient(create_app(folder, metrics=METRICS, compute=starved, memory_limit="2GB"),
                    raise_server_exceptions=False) as c:
        response = c.get("/api/scorecard")
        body = _error(response, 503)
        assert "DuckDB ran out of memory" in body["message"] and "--memory-limit" in body["message"]
        assert "1.9 GiB used" in body["message"] and response.headers["retry-after"]
        _error(c.get("/api/scorecard"), 503)
    assert calls == ["2GB", "2GB"]  # the server's limit reaches each computation; the failure is not cached


def test_running_out_of_memory_reading_a_file_is_a_503_too(folder: Path, monkeypatch: pytest.MonkeyPatch):
    import duckdb

    def starved(*args: Any, **kwargs: Any) -> Any:
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")

    monkeypatch.setattr("cxbench.core.validation.check_table", starved)  # the CSV's validation query
    with TestClient(create_app(folder, metrics=METRICS), raise_server_exceptions=False) as c:
        body = _error(c.get("/api/validation"), 503)
        assert "DuckDB ran out of memory validating" in body["message"] and "--memory-limit" in body["message"]


def test_the_api_documents_a_503_for_running_out_of_memory(client: TestClient):
    # /api/docs is where an API user looks up a status: the 503 of DuckDB running out of memory is one of them.
    spec = client.get("/api/openapi.json").json()
    described = spec["paths"]["/api/scorecard"]["get"]["responses"]["503"]["description"]
    assert "out of memory" in described and "--memory-limit" in described


def test_a_wrong_memory_limit_stops_the_server_before_it_serves(folder: Path):
    with pytest.raises(UsageError, match="memory limit 'lots'"):
        create_app(folder, memory_limit="lots")


# -- the token and the address ------------------------------------------------------------------------------------

TOKEN = "s3cret-token-of-24-chars"


def test_token_is_required_on_every_request(folder: Path):
    with TestClient(create_app(folder, token=TOKEN, metrics=METRICS)) as c:
        for url in ("/healthz", "/api/metrics", "/", "/static/report.js", "/api/docs"):
            body = _error(c.get(url), 401)
            assert "Authorization: Bearer TOKEN" in body["message"] and "***" not in body["message"]
        _error(c.get("/healthz", headers={"Authorization": "Bearer wrong"}), 401)
        _error(c.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}x"}), 401)
        assert c.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        # the dashboard: once with ?token=, then a cookie (HttpOnly, SameSite=Strict) and the address without it
        first = c.get(f"/?token={TOKEN}", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/"
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert c.get("/").status_code == 200 and c.get("/api/metrics").status_code == 200


def test_serve_refuses_an_open_address_without_a_token(folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CXBENCH_TOKEN", raising=False)
    with pytest.raises(UsageError, match="token"):
        serve(folder, host="0.0.0.0")
    with pytest.raises(UsageError, match="at least 16"):
        serve(folder, host="0.0.0.0", token="short")
    from typer.testing import CliRunner

    from cxbench.cli import app

    result = CliRunner().invoke(app, ["serve", str(folder), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "token" in result.output


def test_loopback_server_answers_only_to_loopback_host_names(folder: Path):
    from cxbench.server import LOOPBACK_HOSTS

    with TestClient(create_app(folder, trusted_hosts=LOOPBACK_HOSTS), base_url="http://127.0.0.1:8000") as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/healthz", headers={"Host": "localhost:8000"}).status_code == 200
        _error(c.get("/healthz", headers={"Host": "attacker.example:8000"}), 421)


# -- cache, shared computations, limits -----------------------------------------------------------------------------

def test_cache_per_query_and_invalidated_when_a_file_changes(tmp_path: Path):
    data = write_tables(tmp_path / "data", _tables())
    compute, calls = _counting()
    with TestClient(create_app(data, metrics=("nps",), compute=compute, freshness=0)) as c:
        first = c.get("/api/scorecard").json()
        assert c.get("/api/scorecard").json() == first and len(calls) == 1
        c.get("/api/scorecard", params={"period": "all"})
        assert len(calls) == 2
        # 40 more promoters in October: (55 - 10) / 80 = 56.25
        extra = answers("nps", {10: 40}, start=200, ts="2026-10-20T12:00:00Z")
        surveys = data / "surveys.csv"
        with surveys.open("a", encoding="utf-8") as f:
            f.writelines(f"{r['response_id']},{r['respondent_id']},{r['ts']},nps,{r['score']}\n" for r in extra)
        after = c.get("/api/scorecard").json()
        assert len(calls) == 3
        october = [r["value"] for r in after["metrics"] if r["period_start"] == "2026-10-01" and not r["segment"]]
        assert october == [pytest.approx(56.25)]


def test_concurrent_identical_requests_share_one_computation(folder: Path):
    import httpx

    compute, calls = _counting(delay=0.4)
    app = create_app(folder, metrics=("nps",), compute=compute)

    async def many() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*(c.get("/api/scorecard", params={"period": "quarter"}) for _ in range(8)))

    responses = asyncio.run(many())
    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.content for r in responses}) == 1
    assert len(calls) == 1 and app.state.results.computations["scorecard"] == 1


def test_saturated_engine_and_time_limit_answer_503_with_retry_after(folder: Path):
    import httpx

    gate = threading.Event()
    compute, calls = _counting(gate=gate)
    app = create_app(folder, metrics=("nps",), compute=compute, workers=1, queue=0, timeout=0.5)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            slow = asyncio.create_task(c.get("/api/scorecard", params={"period": "year"}))
            await asyncio.sleep(0.1)
            busy = await c.get("/api/scorecard", params={"period": "week"})
            return await slow, busy

    started = time.monotonic()
    timed_out, busy = asyncio.run(scenario())
    gate.set()
    assert time.monotonic() - started < 5
    for response in (timed_out, busy):
        assert _error(response, 503)["message"] and int(response.headers["retry-after"]) > 0
    assert "busy" in busy.json()["message"] and "still running" in timed_out.json()["message"]


# -- the parameters, fuzzed -------------------------------------------------------------------------------------------

def test_no_parameter_combination_gives_a_500(folder: Path):
    """Hypothesis draws parameters, valid and not; the server answers 200 with the document or 422 with the
    error body, never 500. The computation is the module's one card (the API layer is what is fuzzed)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    card = cxbench.compute(folder, metrics=["nps"])
    app = create_app(folder, compute=lambda source, **kwargs: card)
    dates = st.one_of(st.dates().map(str), st.text(max_size=12))
    params = st.fixed_dictionaries({}, optional={
        "period": st.one_of(st.sampled_from(["day", "week", "month", "quarter", "year", "all"]), st.text(max_size=8)),
        "from": dates, "to": dates,
        "segment": st.one_of(st.sampled_from(["plan", "region", "customer_id", "_row"]), st.text(max_size=10)),
        "compare": st.one_of(st.tuples(st.dates(), st.dates()).map(lambda d: f"{d[0]}..{d[1]}"), st.text(max_size=12)),
        "vertical": st.one_of(st.sampled_from(["saas", "ecommerce"]), st.text(max_size=6)),
        "metric": st.one_of(st.sampled_from(["nps", "ces"]), st.text(max_size=6)),
    })
    paths = st.sampled_from(["/api/scorecard", "/api/metrics/nps", "/api/clv", "/api/metrics/x"])

    with TestClient(app, raise_server_exceptions=False) as c:
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
        @given(path=paths, query=params)
        def check(path: str, query: dict[str, str]) -> None:
            response = c.get(path, params=query)
            assert response.status_code in (200, 422), (path, query, response.text)
            body = response.json()
            if response.status_code == 422:
                ErrorBody.model_validate(body)
            elif path == "/api/scorecard":
                assert {"cxbench_version", "period", "metrics", "inputs"} <= set(body)

        check()


def test_openapi_property_based(folder: Path):
    """Schemathesis over every operation of the OpenAPI document: no 500, every answer of a documented status,
    content type and schema. The computation is one precomputed card (the API layer is what is fuzzed). Its check
    that a schema-valid request is accepted is left out: a segment column is checked against the data, so a
    well-formed name the customers table lacks is a 422 by design. (Its pytest plugin's `from_fixture` does not
    run on pytest 9, hence the loop.)"""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    card = cxbench.compute(folder, metrics=["nps"])
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(folder, compute=lambda source, **_: card))
    paths = []
    for result in schema.get_all_operations():
        operation = result.ok()
        paths.append(operation.path)

        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
    assert {"/api/scorecard", "/api/metrics/{metric_id}", "/api/clv", "/api/report", "/healthz"} <= set(paths)


def test_openapi_types_every_parameter(client: TestClient):
    spec = client.get("/api/openapi.json").json()
    scorecard = {p["name"]: p for p in spec["paths"]["/api/scorecard"]["get"]["parameters"]}
    assert scorecard["period"]["schema"].get("$ref") or scorecard["period"]["schema"].get("enum")
    for name, parameter in scorecard.items():
        assert parameter.get("description"), name
    assert "422" in spec["paths"]["/api/scorecard"]["get"]["responses"]
    schemas = spec["components"]["schemas"]
    assert schemas["Period"]["enum"] == ["day", "week", "month", "quarter", "year", "all"]
    assert "nps" in schemas["MetricId"]["enum"]


# -- the dashboard in Chromium ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live_server(folder: Path) -> Iterator[str]:
    import uvicorn

    from cxbench.server import LOOPBACK_HOSTS

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(folder, metrics=METRICS, trusted_hosts=LOOPBACK_HOSTS),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def test_dashboard_filters_redraw_in_place(live_server: str, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    from test_report import _chromium

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live_server + "/")
        page.wait_for_function("() => document.body.dataset.view !== undefined "
                               "&& document.querySelector('.js-plotly-plot')")
        page.evaluate("window.__sameDocument = true")
        assert page.evaluate("window.cxReport.data.period") == "month"
        headline = page.locator("#card-nps .summary:not([hidden]) .value").inner_text()
        assert headline == "12.5"  # October, the latest month (hand-worked above)

        page.select_option("#f-period", "all")
        page.wait_for_function("() => document.body.dataset.view.indexOf('period=all') >= 0")
        assert page.locator("#card-nps .summary:not([hidden]) .value").inner_text() == "18.8"  # 18.75, all answers
        assert page.evaluate("window.cxReport.data.period") == "all"
        drawn = page.evaluate("() => window.cxReport.data.charts.filter(c => c.metric === 'nps' && c.kind === 'trend')"
                              ".map(c => c.data['0'].y)")
        assert drawn == [[pytest.approx(18.75)]]  # the chart's numbers are the API's record

        page.select_option("#f-segment", "plan")
        page.wait_for_function("() => document.body.dataset.view.indexOf('segment=plan') >= 0")
        options = page.locator("#segment option").all_inner_texts()
        assert options == ["all", "plan=basic", "plan=pro"]
        api = json.loads(page.evaluate("fetch('/api/metrics/nps?period=all&segment=plan').then(r => r.text())"))
        pro = next(r["value"] for r in api["metrics"] if r["segment"] == {"plan": "pro"})
        page.select_option("#segment", "2")
        page.wait_for_function("() => window.cxReport.settled()")
        shown = page.locator("#card-nps .summary:not([hidden]) .value").inner_text()
        assert float(shown) == pytest.approx(pro, abs=0.05)
        assert page.evaluate("window.__sameDocument") is True  # no reload
        assert "period=all&segment=plan" in page.url
        assert page.get_attribute("#dl-csv", "href").endswith("period=all&segment=plan&format=csv")
        page.screenshot(path=str(tmp_path / "dashboard.png"))
        if os.environ.get("CXBENCH_SCREENSHOT"):
            page.screenshot(path=os.environ["CXBENCH_SCREENSHOT"])
        browser.close()
    assert errors == []


# -- cxbench watch ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def alert_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NPS falls from 50 (30 promoters, 10 detractors of 40) to -62.5 (5 promoters, 30 detractors of 40)."""
    rows = (answers("nps", {10: 30, 2: 10}, ts="2026-09-10T12:00:00Z")
            + answers("nps", {9: 5, 8: 5, 1: 30}, start=40, ts="2026-10-10T12:00:00Z"))
    return write_tables(tmp_path_factory.mktemp("alert") / "data", {"surveys": rows})


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            length = int(self.headers["Content-Length"])
            received.append({"content_type": self.headers["Content-Type"],
                             "body": json.loads(self.rfile.read(length))})
            self.send_response(404 if self.path == "/gone" else 200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_watch_posts_only_what_is_new(receiver: tuple[str, list], alert_folder: Path, tmp_path: Path):
    from cxbench.server.watch import items_of, run_once

    url, received = receiver
    folder = alert_folder
    card = cxbench.compute(folder, metrics=["nps"])
    items = items_of(card)
    assert {i.kind for i in items} == {"finding", "change"}
    state = tmp_path / "state.json"
    first = run_once(card, str(folder), webhook=url + "/hook", state=state)
    assert first.posted and len(first.new) == len(items) and len(received) == 1
    body = received[0]["body"]
    assert received[0]["content_type"].startswith("application/json")
    assert body["text"].startswith("*cxbench*") and len(body["cxbench"]) == len(items)  # Slack and Teams read text
    again = run_once(card, str(folder), webhook=url + "/hook", state=state)
    assert again.new == [] and not again.posted and len(received) == 1
    # a refused post leaves the items new for the next run
    fresh = tmp_path / "fresh.json"
    with pytest.raises(UsageError, match="404"):
        run_once(card, str(folder), webhook=url + "/gone", state=fresh)
    assert not fresh.exists()


def test_watch_command_once_from_cron_with_fail_on(receiver: tuple[str, list], alert_folder: Path, tmp_path: Path):
    from typer.testing import CliRunner

    from cxbench.cli import app

    url, received = receiver
    state = tmp_path / "state.json"
    folder = alert_folder
    args = ["watch", str(folder), "-m", "nps", "--webhook", url, "--state", str(state), "--fail-on", "poor"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "nps" in result.output, result.output  # -62.5 is poor
    assert len(received) == 1 and state.exists()
    result = CliRunner().invoke(app, args[:-2])
    assert result.exit_code == 0 and "0 new" in result.output and len(received) == 1
    bad = CliRunner().invoke(app, ["watch", str(folder), "--every", "5s"])
    assert bad.exit_code == 2 and "1m" in bad.output
