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

  // "Copy" buttons fetch a public text (e.g. an SSH public key) and put it on the clipboard.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy-from]");
    if (!btn || !navigator.clipboard) { return; }
    fetch(btn.getAttribute("data-copy-from"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (text) { return navigator.clipboard.writeText(text.trim()); })
      .then(function () { var old = btn.textContent; btn.textContent = "Copied"; setTimeout(function () { btn.textContent = old; }, 1500); })
      .catch(function () { btn.textContent = "Copy failed"; });
  });

  // htmx sends the session's CSRF token (from <meta name="csrf-token">) on every request.
  document.addEventListener("htmx:configRequest", function (ev) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { ev.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });
})();
