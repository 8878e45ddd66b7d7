/* The venue's tablet. Nothing is stored in the browser.
   - After a check-in: the confirmation, then an empty form for the next guest. Someone still
     using the page (a key, a touch, moving focus) keeps it a while longer; "Next guest" goes at once.
   - On the form: once anything is typed (or the form came back with a mistake), the form is
     emptied after data-seconds without a touch or a key, in the tablet's own language. A warning
     comes first (20 s before, or halfway on a shorter setting); any touch or key keeps the form. */
(function () {
  "use strict";
  var ACTIVITY = ["keydown", "input", "change", "touchstart", "pointerdown", "mousedown", "focusin", "wheel", "scroll"];

  function onActivity(handler) {
    for (var i = 0; i < ACTIVITY.length; i += 1) {
      document.addEventListener(ACTIVITY[i], handler, {capture: true, passive: true});
    }
  }

  var next = document.getElementById("next-guest");
  if (next) {
    var seconds = parseInt(next.getAttribute("data-seconds"), 10) || 8;
    var timer = null;
    var restart = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { window.location.replace(next.href); }, seconds * 1000);
    };
    onActivity(restart);
    restart();
    return;
  }

  var warning = document.getElementById("idle-warning");
  var form = document.querySelector("form.checkin");
  if (!warning || !form) { return; }
  var idle = parseFloat(warning.getAttribute("data-seconds")) || 60;
  var warnAfter = Math.max(idle - 20, idle / 2);
  var text = document.getElementById("idle-warning-text");
  var warnTimer = null;
  var resetTimer = null;

  function holdsTyping() {
    if (warning.hasAttribute("data-typed")) { return true; }  // sent back with what was typed
    var fields = form.querySelectorAll("input:not([type=hidden])");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field.type === "checkbox" ? field.checked !== field.defaultChecked : field.value !== field.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function startOver() {
    // replace(): the emptied page takes this one's place in the history, so Back cannot bring it back.
    window.location.replace(warning.getAttribute("data-href"));
  }

  function hideWarning() {
    if (!warning.hidden) {
      warning.hidden = true;
      text.textContent = "";
    }
  }

  function restart() {
    hideWarning();
    window.clearTimeout(warnTimer);
    window.clearTimeout(resetTimer);
    warnTimer = window.setTimeout(function () {
      if (holdsTyping()) {
        warning.hidden = false;
        text.textContent = text.getAttribute("data-text");  // a live region announces new text
      }
    }, warnAfter * 1000);
    resetTimer = window.setTimeout(function () {
      if (holdsTyping()) { startOver(); }
    }, idle * 1000);
  }

  onActivity(restart);
  // A page brought back from the browser's memory (Back, Forward) must not show a guest's details.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && holdsTyping()) { startOver(); }
  });
  restart();
}());
