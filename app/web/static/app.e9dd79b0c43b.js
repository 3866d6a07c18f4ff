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
/* Team customers: how many rows are ticked (across the pages "more" appended), "select the rows
   shown", and "all N matching" (a selection by the filter). The words come from the page
   (#selection-words), in the member's language. */
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
      if (all && all.checked) this.summary = words.dataset.all;
      else if (ticked) this.summary = words.dataset.some.replace("{n}", String(ticked));
      else this.summary = words.dataset.none;
    },
  }));
});
