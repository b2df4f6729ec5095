// The pages behind Warden's emailed links (/invitations/accept, /password-reset).
// The link's secret is in the URL's fragment, which the browser never sends to a server:
// it is read once, cleared from the address bar, and sent only in the JSON API's bodies.
// Everything shown goes in as text (textContent), never as HTML.
"use strict";

(function () {
  var page = document.body.dataset.page;

  // Human messages for the refusals a link can meet, one per stable code.
  var REFUSALS = {
    invitation_link_invalid: [
      "This invitation link is not valid",
      "The link may be incomplete or mistyped, or a newer invitation replaced it. Open the " +
        "link from your most recent invitation email, or ask whoever invited you to send it again."
    ],
    invitation_revoked: [
      "This invitation was revoked",
      "Whoever invited you withdrew the invitation. Ask them for a new one if you still need access."
    ],
    invitation_expired: [
      "This invitation has expired",
      "Invitations work for a limited time. Ask whoever invited you to send it again."
    ],
    invitation_already_accepted: [
      "This invitation was already used",
      "An account was already created with this invitation. Sign in with its email and password, " +
        "or reset the password if you forgot it."
    ],
    password_reset_invalid: [
      "This password reset link is not valid",
      "The link may be incomplete or mistyped. Open the link from your most recent password " +
        "reset email, or ask for a new one."
    ],
    password_reset_expired: [
      "This password reset link has expired",
      "Reset links work for an hour. Ask for a new one."
    ],
    password_reset_used: [
      "This password reset link was already used",
      "Each link works once. Sign in with the password you chose, or ask for a new link."
    ]
  };

  function $(id) {
    return document.getElementById(id);
  }

  function text(id, value) {
    $(id).textContent = value;
  }

  // Shows one view (loading, refused, form-view, done) and moves focus to its heading.
  function show(view) {
    ["loading", "refused", "form-view", "done"].forEach(function (id) {
      $(id).hidden = id !== view;
    });
    var heading = $(view).querySelector("h1");
    if (heading) {
      heading.focus();
    }
  }

  function refuse(code, detail) {
    var known = REFUSALS[code];
    text("refused-title", known ? known[0] : "Something went wrong");
    text("refused-message", known ? known[1] : detail || "Try again in a moment.");
    $("refused").dataset.code = code || "";
    show("refused");
  }

  function formError(message) {
    text("form-error", message);
  }

  // POSTs `body` as JSON to `path`; resolves with {status, body} (body null when empty or
  // not JSON). A network failure resolves with status 0.
  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store"
    }).then(
      function (response) {
        return response.text().then(function (raw) {
          var parsed = null;
          try {
            parsed = raw ? JSON.parse(raw) : null;
          } catch (e) {
            parsed = null;
          }
          return { status: response.status, body: parsed };
        });
      },
      function () {
        return { status: 0, body: null };
      }
    );
  }

  // The problem's code and human detail, whatever the answer was.
  function problem(answer) {
    var body = answer.body || {};
    if (answer.status === 0) {
      return { code: "", detail: "The server could not be reached. Check your connection and try again." };
    }
    return {
      code: typeof body.code === "string" ? body.code : "",
      detail: typeof body.detail === "string" && body.detail
        ? body.detail
        : "The server answered " + answer.status + ". Try again in a moment."
    };
  }

  // The secret, read once from the fragment and then taken out of the address bar (and of
  // this history entry), so it is neither left on screen nor kept in the history.
  function takeSecret() {
    var secret = "";
    try {
      secret = decodeURIComponent(window.location.hash.replace(/^#/, "")).trim();
    } catch (e) {
      secret = "";
    }
    if (window.location.hash) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return secret;
  }

  // Checks what both forms share; returns false (with a message) when the form is not ready.
  function passwordsAgree() {
    if ($("password").value !== $("password-confirmation").value) {
      formError("The two passwords do not match. Type the same password in both fields.");
      $("password-confirmation").focus();
      return false;
    }
    return true;
  }

  // Submits the form through `send` (which returns the API's answer): `done` on success, the
  // refusal view for a link that cannot be used, the problem's detail next to the form
  // otherwise.
  function onSubmit(validate, send, done) {
    var busy = false;
    $("form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) {
        return;
      }
      formError("");
      if (!validate() || !passwordsAgree()) {
        return;
      }
      busy = true;
      $("submit").disabled = true;
      send().then(function (answer) {
        busy = false;
        $("submit").disabled = false;
        if (answer.status >= 200 && answer.status < 300) {
          $("form").reset();
          done(answer.body);
          return;
        }
        var p = problem(answer);
        if (REFUSALS[p.code]) {
          refuse(p.code, p.detail);
        } else {
          formError(p.detail);
        }
      });
    });
  }

  function acceptPage(secret) {
    post("/v1/invitations/inspect", { token: secret }).then(function (answer) {
      if (answer.status !== 200 || !answer.body) {
        var p = problem(answer);
        refuse(p.code, p.detail);
        return;
      }
      var preview = answer.body;
      text("org-name", preview.organization_name);
      text("invitee-email", preview.email);
      $("email").value = preview.email;
      show("form-view");
      $("first-name").focus();
      onSubmit(
        function () {
          if (!$("first-name").value.trim()) {
            formError("Enter your first name.");
            $("first-name").focus();
            return false;
          }
          return true;
        },
        function () {
          return post("/v1/invitations/accept", {
            token: secret,
            first_name: $("first-name").value.trim(),
            last_name: $("last-name").value.trim(),
            password: $("password").value
          });
        },
        function (accepted) {
          accepted = accepted || {};
          text("done-org-name", accepted.organization_name || preview.organization_name);
          text("done-org-id", accepted.organization_id || preview.organization_id);
          text("done-email", (accepted.user && accepted.user.email) || preview.email);
          show("done");
        }
      );
    });
  }

  // An organization's first admin, invited by email (`?first` in the link), chooses a first
  // password rather than a new one: the same call, other words.
  function firstPassword() {
    text("form-title", "Choose your password");
    text("form-intro", "You are the first administrator of this organization. Choose the " +
      "password you will sign in with, together with your email address.");
    text("submit", "Set the password");
    text("done-title", "Your password is set");
    text("done-message", "Sign in with your email address and this password.");
    document.title = "Choose your password · Warden";
  }

  function resetPage(secret) {
    if (new URLSearchParams(window.location.search).has("first")) {
      firstPassword();
    }
    show("form-view");
    $("password").focus();
    onSubmit(
      function () {
        return true;
      },
      function () {
        return post("/v1/password-resets/complete", {
          token: secret,
          new_password: $("password").value
        });
      },
      function () {
        show("done");
      }
    );
  }

  function start() {
    var secret = takeSecret();
    if (!secret) {
      refuse(page === "accept" ? "invitation_link_invalid" : "password_reset_invalid");
      return;
    }
    if (page === "accept") {
      acceptPage(secret);
    } else if (page === "reset") {
      resetPage(secret);
    }
  }

  start();
})();
