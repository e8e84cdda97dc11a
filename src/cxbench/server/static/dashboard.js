/* cxbench serve's dashboard: the filters ask /api/view for the report's sections and chart data of the chosen
   view, put them in place and let report.js draw the charts (window.cxCharts.init): no page reload. */
(function () {
  "use strict";
  var form = document.getElementById("filters"), view = document.getElementById("view");
  var status = document.getElementById("status");
  var field = function (id) { return document.getElementById(id); };
  var request = 0;

  function query() {
    var q = new URLSearchParams();
    q.set("period", field("f-period").value);
    if (field("f-from").value) { q.set("from", field("f-from").value); }
    if (field("f-to").value) { q.set("to", field("f-to").value); }
    if (field("f-segment").value) { q.set("segment", field("f-segment").value); }
    var c0 = field("f-compare-from").value, c1 = field("f-compare-to").value;
    if (c0 && c1) { q.set("compare", c0 + ".." + c1); }
    if (field("f-vertical").value) { q.set("vertical", field("f-vertical").value); }
    return q;
  }

  // The address holds the view, so a reload or a shared link shows the same.
  function fromAddress() {
    var q = new URLSearchParams(window.location.search);
    var set = function (id, value) { if (value !== null) { field(id).value = value; } };
    set("f-period", q.get("period")); set("f-from", q.get("from")); set("f-to", q.get("to"));
    set("f-segment", q.get("segment")); set("f-vertical", q.get("vertical"));
    var compare = (q.get("compare") || "").split("..");
    if (compare.length === 2) { set("f-compare-from", compare[0]); set("f-compare-to", compare[1]); }
  }

  function links(text) {
    field("dl-json").href = "/api/scorecard?" + text;
    field("dl-csv").href = "/api/scorecard?" + text + (text ? "&" : "") + "format=csv";
    field("dl-report").href = "/api/report?" + text;
  }

  function say(text, error) {
    status.textContent = text;
    status.className = error ? "error" : "";
  }

  function load() {
    var q = query(), text = q.toString(), mine = ++request;
    view.classList.add("loading");
    say("computing…", false);
    fetch("/api/view?" + text, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) {
        return r.json().then(function (body) {
          return {ok: r.ok, status: r.status, body: body, retry: Number(r.headers.get("Retry-After")) || 0};
        });
      })
      .then(function (r) {
        if (mine !== request) { return; }  // a later filter change won
        if (r.status === 503 && r.retry) {  // still computing, or busy: ask again as the server says
          say("still computing… (asking again in " + r.retry + " s)", false);
          window.setTimeout(function () { if (mine === request) { load(); } }, r.retry * 1000);
          return;
        }
        view.classList.remove("loading");
        if (!r.ok) {
          say((r.body && r.body.message) || ("error " + r.status), true);
          return;
        }
        view.innerHTML = r.body.html;  // the report's own template, escaped on the server
        window.cxCharts.init(r.body.data);
        links(text);
        window.history.replaceState(null, "", "?" + text);
        document.body.dataset.view = text;
        say("", false);
      })
      .catch(function (e) {
        if (mine !== request) { return; }
        view.classList.remove("loading");
        say("cannot reach the server: " + e.message, true);
      });
  }

  form.addEventListener("change", load);
  form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  fromAddress();
  load();
  window.cxDashboard = {load: load, query: function () { return query().toString(); }};
})();
