/* groundswell: draw every [data-chart] element from the specs in #gs-specs (vega-embed, SVG). */
(function () {
  "use strict";
  function draw(root) {
    var island = document.getElementById("gs-specs");
    if (!island || typeof window.vegaEmbed !== "function") { return; }
    var specs = JSON.parse(island.textContent);
    var els = (root || document).querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(els, function (el) {
      var spec = specs[el.getAttribute("data-chart")];
      if (!spec) { return; }
      window.vegaEmbed(el, spec, { actions: false, renderer: "svg", tooltip: true })
        .then(function () { el.setAttribute("data-rendered", "1"); })
        .catch(function (err) {
          el.setAttribute("data-error", String(err && err.message || err));
          el.textContent = "This chart could not be drawn.";
        });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", function () { draw(); }); }
  else { draw(); }
})();
