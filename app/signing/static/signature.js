// Acre signing page: draw a signature on the canvas (mouse, pen or finger), switch between typed and
// drawn, and put the drawing into the form as a PNG data URL on submit. No third-party code.
(function () {
  "use strict";
  var form = document.getElementById("sign-form");
  if (!form) { return; }
  var canvas = document.getElementById("pad");
  var ctx = canvas.getContext("2d");
  var drawing = false, drawn = false, last = null;
  function size() {
    var ratio = window.devicePixelRatio || 1, box = canvas.getBoundingClientRect();
    canvas.width = Math.round(box.width * ratio); canvas.height = Math.round(box.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 2.2; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#0b2a6b";
    drawn = false; document.getElementById("drawing").value = "";
  }
  function point(e) { var b = canvas.getBoundingClientRect(); return { x: e.clientX - b.left, y: e.clientY - b.top }; }
  canvas.addEventListener("pointerdown", function (e) {
    drawing = true; last = point(e); canvas.setPointerCapture(e.pointerId); e.preventDefault();
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drawing) { return; }
    var p = point(e);
    ctx.beginPath(); ctx.moveTo(last.x, last.y); ctx.lineTo(p.x, p.y); ctx.stroke();
    last = p; drawn = true; e.preventDefault();
  });
  function stop() { drawing = false; }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  document.getElementById("clear").addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); size(); });
  function mode() {
    var typed = document.getElementById("kind-typed").checked;
    document.getElementById("typed-box").hidden = !typed;
    document.getElementById("drawn-box").hidden = typed;
    if (!typed) { size(); }
  }
  document.getElementById("kind-typed").addEventListener("change", mode);
  document.getElementById("kind-drawn").addEventListener("change", mode);
  form.addEventListener("submit", function (e) {
    if (document.getElementById("kind-drawn").checked) {
      if (!drawn) { e.preventDefault(); document.getElementById("pad-hint").classList.add("error"); return; }
      document.getElementById("drawing").value = canvas.toDataURL("image/png");
    }
  });
  mode();
})();
