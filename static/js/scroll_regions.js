// A box that scrolls sideways (a wide table on a phone) must be reachable by keyboard
// (WCAG 2.1.1; axe "scrollable-region-focusable"): give it the focus and a name, taken from its
// card's header. Boxes that stop scrolling (a wider window) lose the focus again.
(function () {
  "use strict";
  var SELECTOR = "main .table-responsive, main .card-body";
  function name(box) {
    var card = box.closest(".card");
    var header = card && card.querySelector(".card-header");
    var caption = box.querySelector("caption");
    return (header && header.textContent.trim()) || (caption && caption.textContent.trim()) || "表格";
  }
  function mark() {
    document.querySelectorAll(SELECTOR).forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1 &&
        /(auto|scroll)/.test(getComputedStyle(box).overflowX);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.dataset.scrollRegion = (box.hasAttribute("role") ? "" : "r") + (box.hasAttribute("aria-label") ? "" : "l");
        box.setAttribute("tabindex", "0");
        if (box.dataset.scrollRegion.indexOf("r") >= 0) { box.setAttribute("role", "region"); }
        if (box.dataset.scrollRegion.indexOf("l") >= 0) { box.setAttribute("aria-label", name(box)); }
      } else if (!scrolls && box.dataset.scrollRegion !== undefined) {
        box.removeAttribute("tabindex");
        if (box.dataset.scrollRegion.indexOf("r") >= 0) { box.removeAttribute("role"); }
        if (box.dataset.scrollRegion.indexOf("l") >= 0) { box.removeAttribute("aria-label"); }
        delete box.dataset.scrollRegion;
      }
    });
  }
  mark();
  var timer;
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(mark, 150); });
})();
