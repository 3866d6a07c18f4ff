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
