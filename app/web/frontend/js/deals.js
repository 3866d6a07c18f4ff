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
