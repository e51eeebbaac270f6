// Panel's own browser code: theme, toasts, and (with htmx) the CSRF header. No build step.
// Loaded synchronously in <head> so the stored theme applies before first paint.
(function () {
  "use strict";
  var KEY = "panel-theme";
  var stored = document.documentElement.getAttribute("data-theme-pref");
  if (!stored) { try { stored = localStorage.getItem(KEY); } catch (e) { /* storage disabled */ } }
  var prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var theme = stored === "dark" || stored === "light" ? stored : (prefersDark ? "dark" : "light");
  document.documentElement.setAttribute("data-theme", theme);

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      toggle.checked = document.documentElement.getAttribute("data-theme") === "dark";
      toggle.addEventListener("change", function () {
        var next = toggle.checked ? "dark" : "light";
        document.documentElement.setAttribute("data-theme", next);
        try { localStorage.setItem(KEY, next); } catch (e) { /* storage disabled */ }
        // Logged in: remember it in the user's preferences too.
        var meta = document.querySelector('meta[name="csrf-token"]');
        if (meta && document.querySelector("[data-user-name]")) {
          fetch("/settings/preferences", {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": meta.getAttribute("content"), "Accept": "application/json" },
            body: "theme=" + next
          });
        }
      });
    }

    // Toasts close on their button and fade away by themselves after a while.
    var toasts = document.getElementById("toasts");
    if (toasts) {
      toasts.addEventListener("click", function (ev) {
        var btn = ev.target.closest("[data-dismiss]");
        if (btn) { var t = btn.closest("[data-toast]"); if (t) { t.remove(); } }
      });
      new MutationObserver(function (records) {
        records.forEach(function (r) {
          r.addedNodes.forEach(function (n) {
            if (n.nodeType === 1 && n.hasAttribute("data-toast") && !n.hasAttribute("data-sticky")) {
              setTimeout(function () { n.remove(); }, 8000);
            }
          });
        });
      }).observe(toasts, { childList: true });
    }
  });

  // "Copy" buttons put a text on the clipboard: an element's text (data-copy-target, a CSS
  // selector) or a public text fetched from the panel (data-copy-from, e.g. an SSH public key).
  // Off a secure context (plain http) there is no navigator.clipboard: a hidden text area and
  // the older copy command do it, and failing that the text is selected for Ctrl+C.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) { return navigator.clipboard.writeText(text); }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text; area.setAttribute("readonly", ""); area.className = "sr-only";
      var before = document.activeElement;
      document.body.appendChild(area); area.focus(); area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      area.remove();
      if (before && before.focus) { before.focus(); }
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }
  function said(btn, word) {
    var label = btn.getAttribute("data-label") || btn.textContent;
    btn.setAttribute("data-label", label);
    btn.textContent = word;
    setTimeout(function () { btn.textContent = label; }, 1500);
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy-from], [data-copy-target]");
    if (!btn) { return; }
    var text;
    var target = btn.getAttribute("data-copy-target");
    if (target) {
      var el = document.querySelector(target);
      text = Promise.resolve(el ? el.textContent : "");
    } else {
      text = fetch(btn.getAttribute("data-copy-from"), { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); });
    }
    text.then(function (t) { return copyText(t.trim()); })
      .then(function () { said(btn, "Copied"); })
      .catch(function () {
        said(btn, "Select and copy");
        var el = target && document.querySelector(target);
        if (el) { var range = document.createRange(); range.selectNodeContents(el); var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range); }
      });
  });

  // A saved theme preference applies at once, not on the next page.
  document.addEventListener("htmx:afterRequest", function (ev) {
    var form = ev.detail.elt;
    if (!ev.detail.successful || !form || !form.matches || !form.matches("form[action='/settings/preferences']")) { return; }
    var select = form.querySelector("[name=theme]");
    var theme = select && select.value;
    if (theme !== "light" && theme !== "dark") { return; }
    document.documentElement.setAttribute("data-theme", theme);
    try { localStorage.setItem(KEY, theme); } catch (e) { /* storage disabled */ }
    var toggle = document.getElementById("theme-toggle");
    if (toggle) { toggle.checked = theme === "dark"; }
  });

  // Confirmation dialogs open and close with invoker commands (command/commandfor on buttons,
  // no script needed); browsers from before them get the same from here.
  if (!("command" in HTMLButtonElement.prototype)) {
    document.addEventListener("click", function (ev) {
      var btn = ev.target.closest("button[commandfor]");
      var dialog = btn && document.getElementById(btn.getAttribute("commandfor"));
      if (!dialog) { return; }
      if (btn.getAttribute("command") === "show-modal") { dialog.showModal(); }
      if (btn.getAttribute("command") === "close") { dialog.close(); }
    });
  }

  // htmx sends the session's CSRF token (from <meta name="csrf-token">) on every request.
  document.addEventListener("htmx:configRequest", function (ev) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { ev.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });
})();
