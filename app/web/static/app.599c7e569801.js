/* Acre's own scripts, built into app.js by build_assets.py, followed by js/<area>.js (one file per
   area of the app). Pages work without them: htmx and plain links do the work, these add local
   state through Alpine components registered on alpine:init (the CSP build: no inline expressions
   beyond property names and method calls, no eval). */
"use strict";
(function () {
  /* An answer htmx does not swap (a 5xx, a dropped connection) still tells the person: the layout's
     #flash region says so in their language (the text is in data-failed on <body>). */
  function failed() {
    var flash = document.getElementById("flash");
    if (flash) flash.textContent = document.body.getAttribute("data-failed") || "";
  }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status >= 500) failed();
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var flash = document.getElementById("flash");
    if (flash) flash.textContent = "";
  });
})();
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
/* Deals board: drag a card onto another column to move it (native HTML5 drag and drop). The drop
   posts the card's own move form through htmx (the same POST /deals/{id}/stage as its menu), so the
   answer — moved, "request approval", or the stage rules' refusal — lands where the menu's would. */
"use strict";
(function () {
  var dragged = null;
  function column(el) { return el && el.closest ? el.closest(".column[data-stage]") : null; }
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card[data-deal]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".column.drop").forEach(function (c) { c.classList.remove("drop"); });
  });
  document.addEventListener("dragover", function (event) {
    var target = column(event.target);
    if (!dragged || !target || target.getAttribute("data-stage") === dragged.getAttribute("data-stage")) return;
    event.preventDefault();
    target.classList.add("drop");
  });
  document.addEventListener("dragleave", function (event) {
    var target = column(event.target);
    if (target && !target.contains(event.relatedTarget)) target.classList.remove("drop");
  });
  document.addEventListener("drop", function (event) {
    var target = column(event.target);
    if (!dragged || !target) return;
    event.preventDefault();
    target.classList.remove("drop");
    var form = dragged.querySelector("form.move");
    var select = form && form.querySelector("select[name=to]");
    var stage = target.getAttribute("data-stage");
    if (!select || !select.querySelector('option[value="' + stage + '"]')) return;
    select.value = stage;
    if (window.htmx) window.htmx.trigger(form, "submit");
  });
})();
/* Team customers: how many rows are ticked (across the pages "more" appended), "select the rows
   shown", and "all N matching" (a selection by the filter; its box comes with the count, loaded
   after the table). The words come from the page (#selection-words, #select-all), in the member's
   language. */
document.addEventListener("alpine:init", () => {
  window.Alpine.data("teamSelection", () => ({
    summary: "",
    init() {
      this.recount();
    },
    boxes() {
      return this.$root.querySelectorAll("input[name=customer_id]");
    },
    tickPage(event) {
      this.boxes().forEach((box) => {
        box.checked = event.target.checked;
      });
      this.recount();
    },
    recount() {
      const words = document.getElementById("selection-words");
      if (!words) return;
      const all = document.getElementById("select-all");
      const ticked = this.$root.querySelectorAll("input[name=customer_id]:checked").length;
      if (all && all.checked) this.summary = all.dataset.all;
      else if (ticked) this.summary = words.dataset.some.replace("{n}", String(ticked));
      else this.summary = words.dataset.none;
    },
  }));
});
