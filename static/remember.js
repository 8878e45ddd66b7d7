/* "Remember me" on the guest's own phone: name and phone number stay in this browser's
   localStorage, never on the server (the checkbox has no name, so it is never sent).
   Plain ES5 for old phones; without it the form works exactly the same. */
(function () {
  "use strict";
  var KEY = "roros-checkin-guest";
  var form = document.querySelector("form[data-remember]");
  var storage = null;
  try {
    storage = window.localStorage;
    storage.getItem(KEY);
  } catch (e) {
    return; // storage switched off (private mode, strict settings): plain form only
  }
  if (!form || !storage) { return; }

  var panel = document.getElementById("remembered");
  var quick = document.getElementById("remembered-checkin");
  var status = document.getElementById("remembered-status");
  var choice = document.getElementById("remember-choice");
  var box = document.getElementById("remember-me");
  var name = form.elements.name;
  var phone = form.elements.phone;
  var consent = form.elements.consent;
  // A form sent back with errors shows what the guest typed; it is not replaced by the shortcut.
  var sentBack = document.querySelector(".error-summary, .notice") !== null;

  function load() {
    try {
      var saved = JSON.parse(storage.getItem(KEY));
      if (saved && typeof saved.name === "string" && typeof saved.phone === "string" && saved.name && saved.phone) {
        return saved;
      }
    } catch (e) { /* unreadable: treat as nothing saved */ }
    return null;
  }

  function showForm(focusName) {
    panel.hidden = true;
    form.hidden = false;
    if (focusName) { name.focus(); }
  }

  choice.hidden = false;
  var saved = load();
  if (saved) {
    box.checked = true;
    if (!sentBack) {
      name.value = saved.name;
      phone.value = saved.phone;
      quick.textContent = quick.getAttribute("data-label").replace("{name}", saved.name);
      form.hidden = true;
      panel.hidden = false;
    }
  }

  quick.addEventListener("click", function () {
    // The button's own words are the consent, as the note under it says.
    consent.checked = true;
    quick.disabled = true;
    form.submit();
  });
  document.getElementById("remembered-change").addEventListener("click", function () {
    showForm(true);
  });
  document.getElementById("remembered-forget").addEventListener("click", function () {
    storage.removeItem(KEY);
    name.value = "";
    phone.value = "";
    box.checked = false;
    showForm(true);
    status.textContent = status.getAttribute("data-forgotten");
  });
  form.addEventListener("submit", function () {
    if (box.checked) {
      storage.setItem(KEY, JSON.stringify({ name: name.value.trim(), phone: phone.value.trim() }));
    } else {
      storage.removeItem(KEY);
    }
  });
  // Coming back with the Back button shows the page from memory: let the shortcut work again.
  window.addEventListener("pageshow", function () { quick.disabled = false; });
}());
