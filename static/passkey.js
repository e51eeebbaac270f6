// Passkey ceremonies for the login, enrolment and settings pages. No build step, no inline code:
// buttons carry data-passkey="register|login", data-options and data-finish URLs, an optional
// data-form (id of a form whose fields are sent along) and data-error (id of the message box).
(function () {
  "use strict";

  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken(btn) {
    if (btn.dataset.csrf) { return btn.dataset.csrf; }
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function postJson(url, body, btn) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken(btn) },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return { error: "The panel answered " + r.status + "." }; })
        .then(function (data) {
          // A step that needs a fresh passkey check: the panel names the page that does it.
          if (r.status === 403 && data.confirm) { window.location.assign(data.confirm); }
          if (!r.ok) { var e = new Error(data.error || ("The panel answered " + r.status + ".")); e.fields = data.fields || []; throw e; }
          return data;
        });
    });
  }

  // Field errors go under their fields (as on every other form); the box above says what
  // happened in a sentence.
  function clearFieldErrors(btn) {
    var form = btn.dataset.form && document.getElementById(btn.dataset.form);
    if (!form) { return; }
    form.querySelectorAll("[data-field-error]").forEach(function (p) { p.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (i) { i.removeAttribute("aria-invalid"); i.classList.remove("input-error"); });
  }

  function showError(btn, err) {
    var box = document.getElementById(btn.dataset.error || "passkey-error");
    if (!box) { return; }
    var text = err.message || String(err);
    if (err.name === "NotAllowedError") {
      text = "Your passkey did not confirm it is you (the browser or device refused, or user verification " +
        "— PIN, fingerprint or face — failed or was cancelled). Please try again.";
    } else if (err.name === "InvalidStateError") {
      text = "This passkey is already registered with this panel.";
    } else if (err.name === "SecurityError") {
      text = "The browser refused passkeys on this address. Open the panel at its configured URL.";
    }
    var form = btn.dataset.form && document.getElementById(btn.dataset.form);
    var unplaced = [];
    (err.fields || []).forEach(function (f) {
      var input = form && form.querySelector('[name="' + (window.CSS && CSS.escape ? CSS.escape(f.field) : f.field) + '"]');
      if (!input) { unplaced.push(f.message); return; }
      input.setAttribute("aria-invalid", "true");
      input.classList.add("input-error");
      var p = document.createElement("p");
      p.className = "text-error text-sm mt-1";
      p.setAttribute("data-field-error", f.field);
      p.id = input.id + "-error";
      input.setAttribute("aria-describedby", p.id);
      p.textContent = f.message;
      input.insertAdjacentElement("afterend", p);
    });
    if (err.fields && err.fields.length) {
      text = err.fields.length === unplaced.length ? unplaced.join(" ") :
        (err.fields.length === 1 ? "1 field needs a change." : err.fields.length + " fields need a change.");
    }
    box.textContent = text;
    box.hidden = false;
    box.setAttribute("data-shown", "true");
  }

  function formFields(btn) {
    var out = {};
    var form = btn.dataset.form && document.getElementById(btn.dataset.form);
    if (form) { new FormData(form).forEach(function (v, k) { if (k !== "csrf_token") { out[k] = String(v); } }); }
    return out;
  }

  // The JSON shape webauthn-rs expects for a browser's credential.
  function credentialJson(cred, response) {
    return {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: response
    };
  }

  function register(btn) {
    return postJson(btn.dataset.options, formFields(btn), btn).then(function (ccr) {
      var pk = ccr.publicKey;
      pk.challenge = b64urlToBuf(pk.challenge);
      pk.user.id = b64urlToBuf(pk.user.id);
      (pk.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
      return navigator.credentials.create({ publicKey: pk });
    }).then(function (cred) {
      return postJson(btn.dataset.finish, credentialJson(cred, {
        attestationObject: bufToB64url(cred.response.attestationObject),
        clientDataJSON: bufToB64url(cred.response.clientDataJSON),
        transports: cred.response.getTransports ? cred.response.getTransports() : null
      }), btn);
    });
  }

  function login(btn) {
    return postJson(btn.dataset.options, {}, btn).then(function (rcr) {
      var pk = rcr.publicKey;
      pk.challenge = b64urlToBuf(pk.challenge);
      (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
      return navigator.credentials.get({ publicKey: pk });
    }).then(function (cred) {
      return postJson(btn.dataset.finish, credentialJson(cred, {
        authenticatorData: bufToB64url(cred.response.authenticatorData),
        clientDataJSON: bufToB64url(cred.response.clientDataJSON),
        signature: bufToB64url(cred.response.signature),
        userHandle: cred.response.userHandle ? bufToB64url(cred.response.userHandle) : null
      }), btn);
    });
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-passkey]");
    if (!btn) { return; }
    ev.preventDefault();
    if (!window.PublicKeyCredential) {
      showError(btn, new Error("This browser does not support passkeys."));
      return;
    }
    var box = document.getElementById(btn.dataset.error || "passkey-error");
    if (box) { box.hidden = true; box.textContent = ""; }
    clearFieldErrors(btn);
    btn.disabled = true;
    var run = btn.dataset.passkey === "login" ? login : register;
    run(btn).then(function (done) {
      // data-next is a local path the panel checked when it rendered the login page.
      window.location.assign(btn.dataset.next || done.redirect || "/");
    }).catch(function (err) {
      showError(btn, err);
    }).then(function () { btn.disabled = false; });
  });
})();
