/* The team pages' charts and CSV downloads. A chart is an element [data-chart] naming the id of a
   <script type="application/json"> data island ({kind: funnel|bar|hbar, labels, series: [{name,
   values}], unit}); ECharts (loaded only on these pages) draws it in the page's language, tooltips
   as canvas text (no HTML, so nothing the CSP refuses). A button [data-csv] downloads the table it
   names as CSV (UTF-8 with a byte order mark, so spreadsheet programs read Chinese right). */
"use strict";
(function () {
  var COLOURS = ["#166534", "#0369a1", "#b45309", "#7c3aed", "#be123c", "#0f766e"];

  function options(spec) {
    var unit = spec.unit ? " " + spec.unit : "";
    var base = {
      color: COLOURS,
      aria: { enabled: false },  // the element has its own label; the table beside it has the data
      animation: false,
      tooltip: { renderMode: "richText", trigger: spec.kind === "funnel" ? "item" : "axis" },
      legend: spec.series.length > 1 ? { top: 0 } : undefined
    };
    if (spec.kind === "funnel") {
      base.series = [{
        type: "funnel", sort: "none", gap: 2, left: "5%", width: "90%", minSize: "8%",
        label: { show: true, position: "inside", color: "#fff", formatter: "{b}: {c}" },
        data: spec.labels.map(function (label, i) { return { name: label, value: spec.series[0].values[i] }; })
      }];
      return base;
    }
    var horizontal = spec.kind === "hbar";
    var category = { type: "category", data: spec.labels, axisLabel: { width: 110, overflow: "truncate", interval: 0 } };
    var value = { type: "value", name: spec.unit || "", axisLabel: { hideOverlap: true } };
    if (!horizontal) category.axisLabel.rotate = spec.labels.length > 4 ? 30 : 0;
    base.grid = { left: 8, right: 16, top: spec.series.length > 1 ? 32 : 16, bottom: 8, containLabel: true };
    base.xAxis = horizontal ? value : category;
    base.yAxis = horizontal ? Object.assign(category, { inverse: true }) : value;
    base.series = spec.series.map(function (s) {
      return { type: "bar", name: s.name, data: s.values, tooltip: { valueFormatter: function (v) { return v + unit; } } };
    });
    return base;
  }

  function draw() {
    if (!window.echarts) return;
    var locale = document.documentElement.lang === "zh-CN" ? "ZH" : "EN";
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.getAttribute("data-drawn")) return;
      var island = document.getElementById(el.getAttribute("data-chart"));
      if (!island) return;
      var spec = JSON.parse(island.textContent);
      if (spec.kind === "hbar") el.classList.add("rows-" + Math.min(12, Math.max(1, spec.labels.length)));
      var chart = window.echarts.init(el, null, { locale: locale, renderer: "canvas" });
      chart.setOption(options(spec));
      el.setAttribute("data-drawn", "1");
      if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(el);
    });
  }

  function cell(text) {
    var t = text.replace(/\s+/g, " ").trim();
    return /[",\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  }

  function csv(table) {
    return Array.prototype.map.call(table.querySelectorAll("tr"), function (row) {
      return Array.prototype.map.call(row.children, function (c) { return cell(c.textContent); }).join(",");
    }).join("\r\n");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-csv]");
    if (!button) return;
    var table = document.getElementById(button.getAttribute("data-csv"));
    if (!table) return;
    var blob = new Blob(["\ufeff" + csv(table)], { type: "text/csv;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = button.getAttribute("data-filename") || "table.csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  });
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
