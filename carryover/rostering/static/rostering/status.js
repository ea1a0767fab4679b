// Poll running syncs and move their bars; reload once one finishes to show its counts.
(function () {
  "use strict";
  document.querySelectorAll("[data-poll]").forEach(function (card) {
    var timer = setInterval(function () {
      fetch(card.dataset.poll, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
        card.querySelector("progress").value = s.percent;
        card.querySelector(".sync__phase").textContent = s.phase;
        card.querySelector(".sync__status").textContent = s.status;
        if (s.finished) { clearInterval(timer); window.location.reload(); }
      });
    }, 1500);
  });
})();
