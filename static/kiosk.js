/* The venue's tablet: after the confirmation, back to an empty form for the next guest.
   The "Next guest" button does the same at once; nothing is stored in the browser. */
(function () {
  "use strict";
  var next = document.getElementById("next-guest");
  if (!next) { return; }
  var seconds = parseInt(next.getAttribute("data-seconds"), 10) || 8;
  window.setTimeout(function () { window.location.replace(next.href); }, seconds * 1000);
}());
