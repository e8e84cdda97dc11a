/* cxbench report: draws every chart from the data embedded once in #cx-data (the scorecard's records), for the
   segment chosen. Charts are drawn when they scroll into view; window.cxReport.renderAll() draws them all.
   The same script draws the `cxbench serve` dashboard: it calls window.cxCharts.init(data) after each new view
   (one chart definition, two uses). */
(function () {
  "use strict";
  var observer = null;

  function init(DATA) {
    if (observer) { observer.disconnect(); }
    // Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
    var COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
    var BAND_FILL = {poor: "rgba(213,94,0,0.14)", fair: "rgba(240,228,66,0.25)", good: "rgba(0,158,115,0.13)",
                     great: "rgba(86,180,233,0.18)", excellent: "rgba(0,114,178,0.20)"};
    var CONFIG = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"]};
    var FONT = {family: "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", size: 12, color: "#1d2430"};
    var segment = 0;
    var charts = {};
    var drawn = {};
    var visible = {};
    DATA.charts.forEach(function (c) { charts[c.id] = c; });

    function fmt(v, unit) {
      if (v === null || v === undefined) { return "—"; }
      if (unit === "percent") { return v.toFixed(1) + " %"; }
      if (unit === "seconds") {
        var sign = v < 0 ? "-" : "", whole = Math.round(Math.abs(v));
        var m = Math.floor(whole / 60), s = whole % 60, h = Math.floor(m / 60), d = Math.floor(h / 24);
        m = m % 60; h = h % 24;
        var p2 = function (x) { return (x < 10 ? "0" : "") + x; };
        if (d) { return sign + d + "d " + p2(h) + "h"; }
        if (h) { return sign + h + "h " + p2(m) + "m"; }
        return m ? sign + m + "m " + p2(s) + "s" : v.toFixed(1) + " s";
      }
      if (unit === "money") { return v.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2}); }
      if (unit === "count") { return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toLocaleString("en-US", {maximumFractionDigits: 2}); }
      return Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(1);
    }
    // Plotly reads a few tags in its text; data values are shown as written.
    function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
    function color(i) { return COLORS[i % COLORS.length]; }

    // Durations are drawn in the unit that suits them; the hover text and the table keep the exact value.
    function timeScale(values) {
      var max = 0;
      values.forEach(function (v) { if (v !== null && Math.abs(v) > max) { max = Math.abs(v); } });
      if (max >= 2 * 86400) { return {div: 86400, title: "days"}; }
      if (max >= 7200) { return {div: 3600, title: "hours"}; }
      if (max >= 120) { return {div: 60, title: "minutes"}; }
      return {div: 1, title: "seconds"};
    }
    function scaled(values, sc) { return values.map(function (v) { return v === null ? null : v / sc.div; }); }
    function axis(unit, values, extra) {
      var a = {gridcolor: "#e6e9ee", zerolinecolor: "#b9c0ca", automargin: true};
      if (unit === "percent") { a.ticksuffix = " %"; }
      if (unit === "money") { a.tickformat = ",.0f"; }
      if (unit === "count") { a.tickformat = ",~r"; }
      if (unit === "seconds") { a.title = {text: timeScale(values).title, font: {size: 11}}; }
      return Object.assign(a, extra || {});
    }
    function prepare(values, unit) {
      if (unit !== "seconds") { return values; }
      return scaled(values, timeScale(values));
    }
    // A few periods: one tick per period, labelled as the period (2026-10, 2026-Q4...), not Plotly's day ticks.
    function dateAxis(x) {
      var a = axis("", [], {type: "date"});
      if (x.length && x.length <= 8) {
        a.tickvals = x;
        a.ticktext = x.map(periodLabel);
      }
      return a;
    }
    // Periods without a value before the first value or after the last (a metric whose inputs start later) are left
    // out of the view; the data table keeps them.
    function valuedSpan(a, x, y) {
      var first = -1, last = -1;
      y.forEach(function (v, i) { if (v !== null) { if (first < 0) { first = i; } last = i; } });
      if (first < 0 || (first === 0 && last === y.length - 1)) { return a; }
      var t0 = Date.parse(x[first]), t1 = Date.parse(x[last]);
      var pad = Math.max((t1 - t0) * 0.04, 12 * 86400000);
      a.range = [new Date(t0 - pad).toISOString().slice(0, 10), new Date(t1 + pad).toISOString().slice(0, 10)];
      a.autorange = false;
      if (a.tickvals) { a.tickvals = x.slice(first, last + 1); a.ticktext = a.tickvals.map(periodLabel); }
      return a;
    }
    function periodLabel(day) {
      var p = DATA.period, y = day.slice(0, 4), m = Number(day.slice(5, 7));
      if (p === "month") { return day.slice(0, 7); }
      if (p === "quarter") { return y + "-Q" + (Math.floor((m - 1) / 3) + 1); }
      if (p === "year") { return y; }
      return day;
    }
    function layout(extra) {
      return Object.assign({font: FONT, margin: {l: 10, r: 14, t: 14, b: 30}, height: 250, paper_bgcolor: "#fff",
                            plot_bgcolor: "#fff", showlegend: false, hoverlabel: {font: {size: 12}},
                            legend: {orientation: "h", y: -0.18, font: {size: 11}}}, extra || {});
    }
    function finite(values) { return values.filter(function (v) { return v !== null && v !== undefined && isFinite(v); }); }

    // ---- chart kinds: each returns {data, layout, table: {head, rows}} ----

    function trend(chart, d) {
      var unit = chart.unit, o = chart.options || {}, table = d;
      // One period with a value (a forecast made once, clv_predicted; or --period all): one dot with its interval
      // over that period's label, not a point lost on a day axis. The data table keeps every period.
      var valued = [];
      d.y.forEach(function (v, i) { if (v !== null) { valued.push(i); } });
      var one = valued.length === 1;
      if (one) {
        var k = valued[0];
        d = {x: [periodLabel(d.x[k])], y: [d.y[k]], lo: [d.lo[k]], hi: [d.hi[k]], n: [d.n[k]], small: [d.small[k]],
             sig: [d.sig[k]], bands: d.bands, target: d.target};
      }
      var all = d.y.concat(d.lo, d.hi);
      var sc = unit === "seconds" ? timeScale(all) : {div: 1};
      var y = scaled(d.y, sc), lo = scaled(d.lo, sc), hi = scaled(d.hi, sc);
      var text = d.y.map(function (v, i) {
        var t = fmt(v, unit) + " (n " + d.n[i].toLocaleString("en-US") + ")";
        if (d.lo[i] !== null && d.hi[i] !== null) { t += "<br>95 %: " + fmt(d.lo[i], unit) + " – " + fmt(d.hi[i], unit); }
        if (d.small[i]) { t += "<br>small sample"; }
        if (d.sig[i]) { t += "<br>significant change"; }
        return t;
      });
      var traces = [];
      if (one) {
        var single = {x: d.x, y: y, mode: "markers+text", name: "value", marker: {size: 12, color: COLORS[0]},
                      text: [fmt(d.y[0], unit)], textposition: "middle right", hovertext: text, hoverinfo: "text", cliponaxis: false};
        if (lo[0] !== null && hi[0] !== null) {
          single.error_y = {type: "data", symmetric: false, array: [hi[0] - y[0]], arrayminus: [y[0] - lo[0]], color: COLORS[0], thickness: 1.5, width: 8};
        }
        traces.push(single);
      } else if (finite(lo).length) {
        traces.push({x: d.x, y: hi, mode: "lines", line: {width: 0, color: "rgba(0,114,178,0.3)"}, hoverinfo: "skip", showlegend: false});
        traces.push({x: d.x, y: lo, mode: "lines", line: {width: 0, color: "rgba(0,114,178,0.3)"}, fill: "tonexty",
                     fillcolor: "rgba(0,114,178,0.18)", name: "95 % interval", hoverinfo: "skip"});
      }
      if (!one) {
        traces.push({x: d.x, y: y, mode: "lines+markers", name: "value", line: {color: COLORS[0], width: 2},
                     marker: {size: 6, color: COLORS[0]}, text: text, hovertemplate: "%{x|%Y-%m-%d}<br>%{text}<extra></extra>"});
      }
      var sx = [], sy = [], gx = [], gy = [];
      d.x.forEach(function (x, i) {
        if (y[i] === null) { return; }
        if (d.small[i]) { sx.push(x); sy.push(y[i]); }
        if (d.sig[i]) { gx.push(x); gy.push(y[i]); }
      });
      if (sx.length) {
        traces.push({x: sx, y: sy, mode: "markers", name: "small sample", hoverinfo: "skip",
                     marker: {symbol: "circle-open", size: 13, color: COLORS[5], line: {width: 2}}});
      }
      if (gx.length) {
        traces.push({x: gx, y: gy, mode: "markers", name: "significant change", hoverinfo: "skip",
                     marker: {symbol: "star", size: 14, color: COLORS[1], line: {color: "#000", width: 1}}});
      }
      var values = finite(y.concat(lo, hi));
      var lines = (o.line ? [o.line] : []).concat(d.target === undefined ? [] : [{y: d.target, label: "target"}]);
      lines.forEach(function (l) { values.push(l.y / sc.div); });
      var y0 = Math.min.apply(null, values), y1 = Math.max.apply(null, values);
      var pad = (y1 - y0) * 0.12 || Math.abs(y1) * 0.1 || 1;
      y0 -= pad; y1 += pad;
      var shapes = [], notes = [];
      var bands = d.bands || o.bands || [];
      bands.forEach(function (b) {
        var low = b.low === null ? -Infinity : b.low / sc.div, high = b.high === null ? Infinity : b.high / sc.div;
        var a = Math.max(low, y0), z = Math.min(high, y1);
        if (!(z > a)) { return; }
        shapes.push({type: "rect", xref: "paper", x0: 0, x1: 1, yref: "y", y0: a, y1: z, layer: "below",
                     fillcolor: BAND_FILL[b.label] || "rgba(0,0,0,0.05)", line: {width: 0}});
        notes.push({xref: "paper", x: 1.01, xanchor: "left", yref: "y", y: (a + z) / 2, showarrow: false,
                    text: esc(b.label), font: {size: 10, color: "#3d4450"}});
      });
      if (DATA.compare && !one) {
        shapes.push({type: "rect", xref: "x", x0: DATA.compare[0], x1: DATA.compare[1], yref: "paper", y0: 0, y1: 1,
                     layer: "below", fillcolor: "rgba(0,0,0,0.07)", line: {color: "rgba(0,0,0,0.25)", width: 1, dash: "dot"}});
        notes.push({xref: "x", x: DATA.compare[0], xanchor: "left", yref: "paper", y: 1, yanchor: "top", showarrow: false,
                    text: "compare window", font: {size: 10, color: "#3d4450"}});
      }
      lines.forEach(function (l) {
        shapes.push({type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: l.y / sc.div, y1: l.y / sc.div,
                     line: {color: "#000", width: 1.5, dash: "dash"}});
        notes.push({xref: "paper", x: 0.005, xanchor: "left", yref: "y", y: l.y / sc.div, yanchor: "bottom", showarrow: false,
                    text: esc(l.label), font: {size: 11}});
      });
      var t = table;
      var rows = t.x.map(function (x, i) {
        return [x, t.y[i] === null ? "—" : fmt(t.y[i], unit), t.lo[i] === null ? "" : fmt(t.lo[i], unit) + " – " + fmt(t.hi[i], unit),
                t.n[i].toLocaleString("en-US"), t.small[i] ? "small sample" : "", t.sig[i] ? "significant" : ""];
      });
      var xaxis = one ? {type: "category", automargin: true} : valuedSpan(dateAxis(d.x), d.x, d.y);
      return {data: traces, layout: layout({showlegend: traces.length > 1, height: one ? 210 : 270, shapes: shapes, annotations: notes,
                                            margin: {l: 10, r: bands.length ? 62 : 14, t: 14, b: 30},
                                            xaxis: xaxis, yaxis: axis(unit, all, {range: [y0, y1]})}),
              table: {head: ["period", "value", "95 % interval", "n", "", "change"], rows: rows}};
    }

    function dots(chart, d) {
      var unit = chart.unit, o = chart.options || {};
      var y = prepare(d.y, unit);
      var sc = unit === "seconds" ? timeScale(d.y) : {div: 1};
      var trace = {type: "scatter", mode: "markers", orientation: "h", x: y, y: d.labels.map(esc),
                   marker: {size: 9, color: COLORS[0]}, text: d.y.map(function (v, i) { return fmt(v, unit) + " (n " + d.n[i].toLocaleString("en-US") + ")"; }),
                   hovertemplate: "%{y}: %{text}<extra></extra>"};
      var whiskers = o.whiskers && finite(d.lo).length;
      if (whiskers) {
        trace.error_x = {type: "data", symmetric: false, color: COLORS[0], thickness: 1.5, width: 4,
                         array: d.hi.map(function (v, i) { return v === null || d.y[i] === null ? 0 : (v - d.y[i]) / sc.div; }),
                         arrayminus: d.lo.map(function (v, i) { return v === null || d.y[i] === null ? 0 : (d.y[i] - v) / sc.div; })};
      }
      var data = [trace];
      if (chart.kind === "bars") {
        data = [{type: "bar", orientation: "h", x: y, y: d.labels.map(esc), marker: {color: COLORS[0]},
                 text: trace.text, textposition: "none", hovertemplate: "%{y}: %{text}<extra></extra>"}];
      }
      var rows = d.labels.map(function (label, i) {
        return [label, fmt(d.y[i], unit), d.lo[i] === null ? "" : fmt(d.lo[i], unit) + " – " + fmt(d.hi[i], unit), d.n[i].toLocaleString("en-US")];
      });
      var note = d.period + (d.hidden ? " · top " + d.labels.length + " of " + (d.labels.length + d.hidden) + " by n" : "");
      return {data: data, layout: layout({height: 60 + 22 * d.labels.length, margin: {l: 10, r: 14, t: 22, b: 30},
                                          annotations: [{xref: "paper", x: 0, yref: "paper", y: 1, yanchor: "bottom", showarrow: false,
                                                         text: esc(note), font: {size: 11, color: "#5b6472"}}],
                                          xaxis: axis(unit, d.y), yaxis: {type: "category", automargin: true}}),
              table: {head: [(o.dimension || "value").replace(/_/g, " "), "value", "95 % interval", "n"], rows: rows}};
    }

    function series(chart, d) {
      var unit = chart.unit, stacked = chart.kind === "stack";
      var all = [];
      d.series.forEach(function (s) { all = all.concat(s.y); });
      var sc = unit === "seconds" ? timeScale(all) : {div: 1};
      var data = d.series.map(function (s, i) {
        var c = s.color !== undefined ? color(s.color) : color(i);  // a series may name its colour (health bands)
        var t = {x: d.x, y: scaled(s.y, sc), name: esc(s.name), marker: {color: c},
                 text: s.y.map(function (v) { return fmt(v, unit); }), hovertemplate: esc(s.name) + ": %{text}<extra></extra>"};
        if (stacked) { t.type = "bar"; t.textposition = "none"; } else { t.mode = "lines+markers"; t.line = {color: c, width: 2}; t.marker.size = 5; }
        return t;
      });
      var rows = d.x.map(function (x, j) { return [x].concat(d.series.map(function (s) { return fmt(s.y[j], unit); })); });
      return {data: data, layout: layout({showlegend: true, height: 290, barmode: stacked ? "relative" : undefined,
                                          hovermode: "x unified", xaxis: dateAxis(d.x), yaxis: axis(unit, all)}),
              table: {head: ["period"].concat(d.series.map(function (s) { return s.name; })), rows: rows}};
    }

    function nps(chart, d) {
      var parts = [["promoters", COLORS[2]], ["passives", "#9aa3ae"], ["detractors", COLORS[5]]];
      var data = parts.map(function (p) {
        return {type: "bar", x: d.x, y: d[p[0]], name: p[0], marker: {color: p[1]},
                text: d[p[0]].map(function (v) { return v === null ? "" : v.toFixed(0) + " %"; }), textposition: "inside",
                hovertemplate: p[0] + ": %{y:.1f} %<extra></extra>"};
      });
      var rows = d.x.map(function (x, i) { return [x, fmt(d.promoters[i], "percent"), fmt(d.passives[i], "percent"), fmt(d.detractors[i], "percent"), d.n[i].toLocaleString("en-US")]; });
      return {data: data, layout: layout({showlegend: true, barmode: "stack", height: 290, xaxis: dateAxis(d.x),
                                          yaxis: axis("percent", [], {range: [0, 100]})}),
              table: {head: ["period", "promoters", "passives", "detractors", "answers"], rows: rows}};
    }

    function heatmap(chart, d) {
      var axisTitle = d.axis || "months since signup";
      var data = [{type: "heatmap", x: d.offsets, y: d.cohorts.map(esc), z: d.z, colorscale: "Viridis", zmin: 0, zmax: d.zmax || 100,
                   texttemplate: "%{z:.0f}", hovertemplate: "cohort %{y}, " + esc(axisTitle) + " %{x}: %{z:.1f} %<extra></extra>",
                   colorbar: {ticksuffix: " %", thickness: 12}}];
      var rows = d.cohorts.map(function (c, i) { return [c, d.n[i] === null ? "" : d.n[i].toLocaleString("en-US")].concat(d.z[i].map(function (v) { return v === null ? "" : fmt(v, "percent"); })); });
      return {data: data, layout: layout({height: 80 + 24 * d.cohorts.length, margin: {l: 10, r: 14, t: 10, b: 40},
                                          xaxis: {title: {text: esc(axisTitle), font: {size: 11}}, dtick: 1},
                                          yaxis: {type: "category", autorange: "reversed", automargin: true}}),
              table: {head: ["cohort", "customers"].concat(d.offsets.map(function (o) { return "month " + o; })), rows: rows}};
    }

    function waterfall(chart, d) {
      var labels = d.steps.map(function (s) { return s[0]; }).concat(["net new"]);
      var values = d.steps.map(function (s) { return s[1]; }).concat([0]);
      var text = d.steps.map(function (s) { return fmt(s[1], "money"); }).concat([fmt(d.total, "money")]);
      var data = [{type: "waterfall", x: labels, y: values, measure: d.steps.map(function () { return "relative"; }).concat(["total"]),
                   text: text, textposition: "outside", hovertemplate: "%{x}: %{text}<extra></extra>",
                   increasing: {marker: {color: COLORS[2]}}, decreasing: {marker: {color: COLORS[5]}}, totals: {marker: {color: COLORS[0]}},
                   connector: {line: {color: "#9aa3ae", width: 1}}}];
      var rows = d.steps.map(function (s) { return [s[0], fmt(s[1], "money")]; }).concat([["net new (record)", fmt(d.total, "money")]]);
      return {data: data, layout: layout({height: 300, margin: {l: 10, r: 14, t: 26, b: 30},
                                          annotations: [{xref: "paper", x: 0, yref: "paper", y: 1.02, yanchor: "bottom", showarrow: false,
                                                         text: esc(d.period), font: {size: 11, color: "#5b6472"}}],
                                          yaxis: axis("money", [])}),
              table: {head: ["movement", d.period], rows: rows}};
    }

    function grouped(chart, d) {
      var all = [];
      d.series.forEach(function (s) { all = all.concat(s.y); });
      var sc = chart.unit === "seconds" ? timeScale(all) : {div: 1};
      var data = d.series.map(function (s, i) {
        return {type: "bar", x: d.labels.map(esc), y: scaled(s.y, sc), name: s.name, marker: {color: color(i)},
                text: s.y.map(function (v) { return fmt(v, chart.unit); }), textposition: "none", hovertemplate: s.name + " %{x}: %{text}<extra></extra>"};
      });
      var rows = d.labels.map(function (l, j) { return [l].concat(d.series.map(function (s) { return fmt(s.y[j], chart.unit); })); });
      return {data: data, layout: layout({showlegend: true, barmode: "group", height: 290, xaxis: {type: "category"}, yaxis: axis(chart.unit, all)}),
              table: {head: [d.period].concat(d.series.map(function (s) { return s.name; })), rows: rows}};
    }

    function strip(chart, d) {
      var n = d.panels.length, data = [], notes = [], lay = layout({height: 230, margin: {l: 10, r: 14, t: 30, b: 30},
                                                                     grid: {rows: 1, columns: n, pattern: "independent", xgap: 0.12}});
      var head = ["period"], rows = {};
      d.panels.forEach(function (p, i) {
        var k = i ? String(i + 1) : "";
        data.push({x: p.x, y: prepare(p.y, p.unit), xaxis: "x" + k, yaxis: "y" + k, mode: "lines+markers", line: {color: color(i), width: 2},
                   marker: {size: 4, color: color(i)}, text: p.y.map(function (v) { return fmt(v, p.unit); }),
                   hovertemplate: "%{x|%Y-%m}: %{text}<extra>" + esc(p.title) + "</extra>"});
        lay["xaxis" + k] = axis("", [], {type: "date", nticks: 4});
        lay["yaxis" + k] = axis(p.unit, p.y);
        notes.push({xref: "x" + k + " domain", x: 0, yref: "y" + k + " domain", y: 1.02, xanchor: "left", yanchor: "bottom",
                    showarrow: false, text: "<b>" + esc(p.title) + "</b>", font: {size: 12}});
        head.push(p.title);
        p.x.forEach(function (x, j) { (rows[x] = rows[x] || {})[i] = fmt(p.y[j], p.unit); });
      });
      lay.annotations = notes;
      var table = Object.keys(rows).sort().map(function (x) { return [x].concat(d.panels.map(function (p, i) { return rows[x][i] || ""; })); });
      return {data: data, layout: lay, table: {head: head, rows: table}};
    }

    function holdout(chart, d) {
      var data = [["actual", COLORS[0], "solid"], ["predicted", COLORS[1], "dash"]].map(function (p) {
        return {x: d.labels, y: d[p[0]], name: p[0] + " (mean per customer)", mode: "lines+markers",
                line: {color: p[1], width: 2, dash: p[2]}, marker: {size: 6, color: p[1]},
                hovertemplate: p[0] + ": %{y:.2f}<extra></extra>"};
      });
      var rows = d.labels.map(function (l, i) {
        return [l, d.customers[i].toLocaleString("en-US"), d.actual[i] === null ? "" : d.actual[i].toFixed(3),
                d.predicted[i] === null ? "" : d.predicted[i].toFixed(3)];
      });
      var note = d.error_pct === null ? "" : "predicted total " + (d.error_pct > 0 ? "+" : "") + d.error_pct.toFixed(1) + " % off the actual";
      return {data: data, layout: layout({showlegend: true, height: 290, margin: {l: 10, r: 14, t: 22, b: 40},
                                          annotations: [{xref: "paper", x: 0, yref: "paper", y: 1, yanchor: "bottom", showarrow: false,
                                                         text: note, font: {size: 11, color: "#5b6472"}}],
                                          xaxis: {type: "category", title: {text: "purchases before the holdout (repeat purchases)", font: {size: 11}}},
                                          yaxis: axis("", [], {title: {text: "purchases in the holdout", font: {size: 11}}})}),
              table: {head: ["purchases before", "customers", "actual per customer", "predicted per customer"], rows: rows}};
    }

    // Key drivers (cxbench report --drivers): importance (share of R², with its 95 % interval) against performance
    // (% of customers on the good side of the driver's threshold); the lines cross at the drivers' means.
    function quadrant(chart, d) {
      var p = d.points, xs = p.map(function (q) { return q.x; });
      var xmax = Math.max.apply(null, finite(p.map(function (q) { return q.x_high; })).concat(xs)) * 1.15 || 1;
      var data = [{x: xs, y: p.map(function (q) { return q.y; }), mode: "markers+text", type: "scatter",
                   text: p.map(function (q) { return esc(q.label); }), textfont: {size: 11},
                   textposition: p.map(function (q) { return q.x > xmax / 2 ? "top left" : "top right"; }),
                   marker: {size: 10, color: p.map(function (q) { return q.quadrant === "fix first" ? COLORS[5] : COLORS[0]; })},
                   error_x: {type: "data", symmetric: false, color: "rgba(0,0,0,0.35)", thickness: 1,
                             array: p.map(function (q) { return q.x_high === null ? 0 : q.x_high - q.x; }),
                             arrayminus: p.map(function (q) { return q.x_low === null ? 0 : q.x - q.x_low; })},
                   customdata: p.map(function (q) { return [esc(q.quadrant || ""), q.affected === null ? "" : q.affected.toFixed(0), esc(q.good || "")]; }),
                   hovertemplate: "%{text}<br>importance %{x:.1f} % of R²<br>performance %{y:.0f} % (%{customdata[2]})<br>affected %{customdata[1]} %<br>%{customdata[0]}<extra></extra>"}];
      var labels = [["fix first", xmax * 0.98, 2, "right", "bottom"], ["keep it up", xmax * 0.98, 98, "right", "top"],
                    ["watch", 0, 2, "left", "bottom"], ["maintain", 0, 98, "left", "top"]];
      var notes = labels.map(function (l) {
        return {x: l[1], y: l[2], xanchor: l[3], yanchor: l[4], showarrow: false, text: l[0], font: {size: 11, color: "#5b6472"}};
      });
      var lines = [{type: "line", x0: d.x_line, x1: d.x_line, y0: 0, y1: 100, line: {color: "#8a93a0", dash: "dot", width: 1}},
                   {type: "line", x0: 0, x1: xmax, y0: d.y_line, y1: d.y_line, line: {color: "#8a93a0", dash: "dot", width: 1}}];
      var rows = p.map(function (q) {
        return [q.label, q.x.toFixed(1) + (q.x_low === null ? "" : " (" + q.x_low.toFixed(1) + "–" + q.x_high.toFixed(1) + ")"),
                q.y.toFixed(0), q.affected === null ? "" : q.affected.toFixed(0), q.quadrant || ""];
      });
      return {data: data, layout: layout({height: 380, margin: {l: 10, r: 14, t: 14, b: 44}, shapes: lines, annotations: notes,
                                          xaxis: {range: [-xmax * 0.02, xmax], zeroline: false, title: {text: "importance: share of R² (%)", font: {size: 11}}},
                                          yaxis: axis("", [], {range: [0, 100], title: {text: "performance: % of customers doing well", font: {size: 11}}})}),
              table: {head: ["driver", "importance % (95 % CI)", "performance %", "affected %", "quadrant"], rows: rows}};
    }

    // Comment themes (cxbench themes): each theme's score difference (with − without) and its 95 % interval.
    function themes(chart, d) {
      var n = d.labels.length, order = d.labels.map(function (_, i) { return n - 1 - i; });  // first theme on top
      var pick = function (a) { return order.map(function (i) { return a[i]; }); };
      var labels = pick(d.labels).map(function (l) { return esc(l.length > 48 ? l.slice(0, 47) + "…" : l); });
      var impact = pick(d.impact), low = pick(d.low), high = pick(d.high);
      var text = order.map(function (i) {
        return esc(d.labels[i]) + "<br>" + d.comments[i].toLocaleString("en-US") + " comments (" + d.share[i].toFixed(1) + " %)<br>" +
               d.score_name + " " + fmt(d["with"][i], "") + " with, " + fmt(d.without[i], "") + " without";
      });
      var data = [{type: "bar", orientation: "h", y: labels, x: impact, text: text, textposition: "none",
                   marker: {color: impact.map(function (v) { return v !== null && v < 0 ? COLORS[5] : COLORS[0]; })},
                   error_x: {type: "data", symmetric: false, color: "#5b6472", thickness: 1.2,
                             array: impact.map(function (v, i) { return v === null || high[i] === null ? 0 : high[i] - v; }),
                             arrayminus: impact.map(function (v, i) { return v === null || low[i] === null ? 0 : v - low[i]; })},
                   hovertemplate: "%{text}<br>difference %{x:+.1f} points<extra></extra>"}];
      var rows = d.labels.map(function (l, i) {
        return [l, d.comments[i].toLocaleString("en-US"), d.share[i].toFixed(1) + " %", fmt(d["with"][i], ""),
                fmt(d.without[i], ""), d.impact[i] === null ? "—" : d.impact[i].toFixed(1),
                d.low[i] === null ? "—" : d.low[i].toFixed(1) + " to " + d.high[i].toFixed(1),
                d.sentiment[i] === null ? "—" : d.sentiment[i].toFixed(2)];
      });
      return {data: data, layout: layout({height: Math.max(220, 60 + 34 * n), margin: {l: 10, r: 14, t: 10, b: 40},
                                          xaxis: axis("", [], {zeroline: true, zerolinewidth: 2,
                                                               title: {text: d.score_name + " points (with − without)", font: {size: 11}}}),
                                          yaxis: {automargin: true, type: "category"}}),
              table: {head: ["theme", "comments", "share", d.score_name + " with", d.score_name + " without", "difference",
                             "95 % interval", "sentiment"], rows: rows}};
    }

    // A ratio per breakdown value against a reference line (CLV:CAC per channel against 3 : 1): values below the
    // line are drawn in vermillion diamonds and say so in the hover text and the table, not by colour alone. A
    // log axis when the values span more than 30 times the line (one channel at 80 : 1 would flatten the rest).
    function ratio(chart, d) {
      var o = chart.options || {}, line = o.line || null;
      var below = d.y.map(function (v) { return line !== null && v !== null && v < line.y; });
      var values = finite(d.y).concat(line ? [line.y] : []);
      var y1 = Math.max.apply(null, values), y0 = Math.min.apply(null, values);
      var log = y0 > 0 && y1 / y0 > 30;
      var hover = d.labels.map(function (label, i) {
        return esc(label) + ": " + fmt(d.y[i], "ratio") + " : 1" + (below[i] ? " (below " + esc(line.label) + ")" : "") +
               "<br>CLV " + fmt(d.clv[i], "money") + " ÷ CAC " + fmt(d.cac[i], "money") + "<br>customers won " + d.n[i].toLocaleString("en-US");
      });
      var data = [{type: "scatter", mode: "markers+text", x: d.labels.map(esc), y: d.y,
                   marker: {size: 13, color: below.map(function (b) { return b ? COLORS[5] : COLORS[0]; }),
                            symbol: below.map(function (b) { return b ? "diamond" : "circle"; }), line: {color: "#fff", width: 1}},
                   text: d.y.map(function (v) { return fmt(v, "ratio"); }), textposition: "top center", cliponaxis: false,
                   hovertext: hover, hoverinfo: "text"}];
      var shapes = [], notes = [];
      if (line) {
        shapes.push({type: "line", xref: "paper", x0: 0, x1: 1, yref: "y", y0: line.y, y1: line.y, layer: "below",
                     line: {color: "#000", width: 1.5, dash: "dash"}});
        notes.push({xref: "paper", x: 1, xanchor: "right", yref: "y", y: line.y, yanchor: "bottom", showarrow: false,
                    text: esc(line.label), font: {size: 11}});
      }
      var note = d.period + (d.hidden ? " · top " + d.labels.length + " of " + (d.labels.length + d.hidden) + " by customers won" : "");
      notes.push({xref: "paper", x: 0, yref: "paper", y: 1, yanchor: "bottom", showarrow: false, text: esc(note),
                  font: {size: 11, color: "#5b6472"}});
      if (d.without && d.without.length) {
        notes.push({xref: "paper", x: 0, yref: "paper", y: -0.16, yanchor: "top", showarrow: false, align: "left",
                    text: esc("no ratio: " + d.without.join(", ")), font: {size: 11, color: "#5b6472"}});
      }
      var yaxis = log ? axis("", [], {type: "log", title: {text: "CLV ÷ CAC (log scale)", font: {size: 11}}})
                      : axis("", [], {range: [0, y1 * 1.18], title: {text: "CLV ÷ CAC", font: {size: 11}}});
      var rows = d.labels.map(function (label, i) {
        return [label, fmt(d.y[i], "ratio") + " : 1", fmt(d.clv[i], "money"), fmt(d.cac[i], "money"),
                d.n[i].toLocaleString("en-US"), below[i] ? "below " + line.label : ""];
      });
      return {data: data, layout: layout({height: 290, margin: {l: 10, r: 14, t: 24, b: d.without && d.without.length ? 52 : 30},
                                          shapes: shapes, annotations: notes,
                                          xaxis: {type: "category", automargin: true}, yaxis: yaxis}),
              table: {head: [(o.dimension || "value").replace(/_/g, " "), "CLV : CAC", "CLV", "CAC", "customers won", ""],
                      rows: rows.concat((d.without || []).map(function (w) { return [w, "—", "", "", "", "no ratio"]; }))}};
    }

    // A funnel (cxbench funnel): users reaching each step, with the conversion of the users who entered.
    function funnel(chart, d) {
      var text = d.users.map(function (u, i) {
        return u.toLocaleString("en-US") + (i ? " · " + fmt(d.conversion[i], "percent") : "");
      });
      var data = [{type: "funnel", y: d.labels.map(esc), x: d.users, text: text, textinfo: "text", textposition: "auto",
                   marker: {color: d.users.map(function (_, i) { return color(i ? 0 : 4); })},
                   connector: {fillcolor: "#e6e9ee"}, hovertemplate: "%{y}: %{text}<extra></extra>"}];
      var rows = d.labels.map(function (l, i) {
        return [l, d.users[i].toLocaleString("en-US"), fmt(d.conversion[i], "percent"),
                i && d.lo[i] !== null ? fmt(d.lo[i], "percent") + " – " + fmt(d.hi[i], "percent") : "",
                i ? fmt(d.previous[i], "percent") : "", i ? d.dropped[i].toLocaleString("en-US") : "",
                i ? fmt(d.median[i], "seconds") : ""];
      });
      return {data: data, layout: layout({height: 70 + 46 * d.labels.length, margin: {l: 10, r: 14, t: 10, b: 20},
                                          yaxis: {automargin: true}}),
              table: {head: ["step", "users", "conversion", "95 % interval (Wilson)", "of previous step", "dropped",
                             "median time from previous"], rows: rows}};
    }

    var KINDS = {trend: trend, dots: dots, bars: dots, lines: series, stack: series, nps: nps, heatmap: heatmap,
                 waterfall: waterfall, grouped: grouped, strip: strip, holdout: holdout, themes: themes, ratio: ratio,
                 quadrant: quadrant, funnel: funnel};

    function fillTable(el, table) {
      var block = el.parentNode, thead = block.querySelector("details.data thead"), tbody = block.querySelector("details.data tbody");
      thead.textContent = ""; tbody.textContent = "";
      if (!table) { return; }
      var tr = document.createElement("tr");
      table.head.forEach(function (h) { var th = document.createElement("th"); th.scope = "col"; th.textContent = h; tr.appendChild(th); });
      thead.appendChild(tr);
      table.rows.forEach(function (r) {
        var row = document.createElement("tr");
        r.forEach(function (v) { var td = document.createElement("td"); td.textContent = v; row.appendChild(td); });
        tbody.appendChild(row);
      });
    }

    function draw(id) {
      var chart = charts[id], el = document.getElementById(id);
      if (!chart || !el) { return false; }
      var d = chart.data[String(segment)] || (chart.options.allSegments ? chart.data["0"] : null);
      drawn[id] = segment;
      var empty = el.parentNode.querySelector(".no-data");
      if (!d) {
        Plotly.purge(el); el.hidden = true; empty.hidden = false; fillTable(el, null);
        return false;
      }
      el.hidden = false; empty.hidden = true;
      var fig = KINDS[chart.kind](chart, d);
      Plotly.react(el, fig.data, fig.layout, CONFIG);
      fillTable(el, fig.table);
      return true;
    }

    function setSegment(index) {
      segment = index;
      document.querySelectorAll(".summary").forEach(function (s) { s.hidden = Number(s.dataset.seg) !== segment; });
      Object.keys(charts).forEach(function (id) { if (visible[id]) { draw(id); } });
    }

    observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        var id = e.target.id;
        visible[id] = e.isIntersecting;
        if (e.isIntersecting && drawn[id] !== segment) { draw(id); }
      });
    }, {rootMargin: "200px 0px"});
    Object.keys(charts).forEach(function (id) { var el = document.getElementById(id); if (el) { observer.observe(el); } });

    var picker = document.getElementById("segment");
    if (picker) { picker.addEventListener("change", function (e) { setSegment(Number(e.target.value)); }); }

    window.cxReport = {
      data: DATA,
      segment: function () { return segment; },
      setSegment: setSegment,
      renderAll: function () {
        Object.keys(charts).forEach(function (id) { if (drawn[id] !== segment) { draw(id); } });
        return document.querySelectorAll(".chart.js-plotly-plot").length;
      },
      // Whether every chart on the screen is drawn for the chosen segment (tests wait for it before a screenshot).
      settled: function () {
        var height = window.innerHeight;
        return Object.keys(charts).every(function (id) {
          var r = document.getElementById(id).parentNode.getBoundingClientRect();
          return r.bottom < 0 || r.top > height || drawn[id] === segment;
        });
      }
    };
  }

  window.cxCharts = {init: init};
  var embedded = document.getElementById("cx-data");
  if (embedded && embedded.textContent.trim()) { init(JSON.parse(embedded.textContent)); }
})();
