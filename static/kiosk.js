/* The venue's tablet: after the confirmation, back to an empty form for the next guest.
   Someone still using the page (a key, a touch, moving focus) keeps it a while longer;
   the "Next guest" button goes at once. Nothing is stored in the browser. */
(function () {
  "use strict";
  var next = document.getElementById("next-guest");
  if (!next) { return; }
  var seconds = parseInt(next.getAttribute("data-seconds"), 10) || 8;
  var timer = null;
  function restart() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { window.location.replace(next.href); }, seconds * 1000);
  }
  var events = ["keydown", "touchstart", "mousedown", "focusin"];
  for (var i = 0; i < events.length; i += 1) {
    document.addEventListener(events[i], restart, true);
  }
  restart();
}());
