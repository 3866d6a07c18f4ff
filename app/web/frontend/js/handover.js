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
