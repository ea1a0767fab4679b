// Move the bar while the names match or the confirmed rows merge: the worker writes how
// far its phase is (no value while a phase it does not count runs, as done is then 0);
// reload once the run is over to show each row. Loaded only while the job is busy.
(function () {
  "use strict";
  var card = document.getElementById("job-status");
  if (!card || !card.dataset.poll) { return; }
  var timer = setInterval(function () {
    fetch(card.dataset.poll, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (s) {
      var bar = card.querySelector("progress");
      if (s.status === "matching" && !s.done) { bar.removeAttribute("value"); } else { bar.value = s.percent; }
      card.querySelector(".planb-progress__text").textContent = s.text;
      card.querySelector(".planb-job-status").textContent = s.status_label;
      if (s.finished) { clearInterval(timer); window.location.reload(); }
    });
  }, 1500);
})();
