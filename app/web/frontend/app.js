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
