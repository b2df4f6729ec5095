"""Drives the pages behind Warden's emailed links in a real headless Chromium (Debian's
/usr/bin/chromium) through Playwright for Python (PyPI), for the CLI tests (browser.rs).

Reads one JSON object on standard input, prints one JSON object of what the pages showed:

    {"form": {"kind": "accept" | "reset", "link": URL, "password": P, "short_password": S,
              "first_name": F, "last_name": L,
              "button": B},                          # optional: fill in and submit a page
                                                     # (B: the submit button's name, if not
                                                     # the page's usual one)
     "then_open": [URL | {"link": URL, "password": P}, ...]}
                 # optional: open each link afterwards (with a password: submit it too, for the
                 # reset page, which only learns from its submission that a link is used)

    python3 browser.py [--screenshots DIR] < input.json

The form is first submitted with two different passwords (caught by the page), then with
`short_password` (refused by the server, whose detail the page shows next to the form), then
properly. Every request that would leave the server's origin is blocked and reported. Exits 1
with the page's text on stderr when the page does not do what is expected in time.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# This machine's network is closed: without the background-networking flags Chromium keeps
# trying to reach Google's hosts. Playwright adds --headless and, as root, --no-sandbox is
# needed; launch() gives each run a new, empty profile directory.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]
STEP_TIMEOUT_MS = 10_000
WHOLE_RUN_SECONDS = 90
SETTLED = "#form-view:not([hidden]), #refused:not([hidden]), #done:not([hidden])"


class Watch:
    """What a page did besides showing things: console errors, blocked requests, API calls."""

    def __init__(self, origin):
        self.origin = origin
        self.console_errors = []
        self.blocked = []
        self.calls = []

    def attach(self, context):
        def route(route):
            url = route.request.url
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != self.origin:
                self.blocked.append(url)
                route.abort()
            else:
                if parts.path.startswith("/v1/"):
                    self.calls.append(f"{route.request.method} {parts.path}")
                route.continue_()

        context.route("**/*", route)

    def page(self, context):
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)

        def console(message):
            if message.type != "error":
                return
            path = urlsplit((message.location or {}).get("url", "")).path
            # Chromium logs every error status it loads, even those the page expects and
            # shows: the API's refusals, and the /favicon.ico it asks for on its own.
            expected = path.startswith("/v1/") or path == "/favicon.ico"
            if not (message.text.startswith("Failed to load resource") and expected):
                self.console_errors.append(f"{message.text} ({path})")

        page.on("console", console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        return page


def visible_view(page):
    for view in ["form-view", "refused", "done", "loading"]:
        if page.locator(f"#{view}").is_visible():
            return view
    return ""


def open_link(page, link, password=None):
    """Opens `link` and waits for the page to settle on a view (with `password`, submits the
    form that view shows, and waits for the answer's view); returns what it shows."""
    page.goto(link, wait_until="domcontentloaded")
    page.wait_for_selector(SETTLED, state="visible")
    if password is not None and visible_view(page) == "form-view":
        kind = page.evaluate("document.body.dataset.page")
        fill_passwords(page, kind, password, password)
        page.locator("#submit").click()
        page.wait_for_selector("#refused:not([hidden]), #done:not([hidden])", state="visible")
    view = visible_view(page)
    heading = page.locator(f"#{view} h1").inner_text().strip() if view else ""
    return {
        "url": page.url,
        "hash": page.evaluate("window.location.hash"),
        "title": page.title(),
        "view": view,
        "heading": heading,
        "message": page.locator("#refused-message").inner_text().strip() if view == "refused" else "",
        "form_visible": page.locator("#form").is_visible(),
        "focused": page.evaluate("document.activeElement && document.activeElement.id"),
    }


def error_after(page, previous):
    """Waits for the alert area to say something other than `previous`; returns it."""
    page.wait_for_function(
        "prev => { const t = document.getElementById('form-error').textContent;"
        " return t && t !== prev; }",
        arg=previous,
    )
    return page.get_by_role("alert").inner_text().strip()


def fill_passwords(page, kind, first, second):
    first_label, second_label = (
        ("Password", "Password again") if kind == "accept" else ("New password", "New password again")
    )
    page.get_by_label(first_label, exact=True).fill(first)
    page.get_by_label(second_label, exact=True).fill(second)


def submit_form(page, form, watch, shots):
    kind = form["kind"]
    seen = open_link(page, form["link"])
    out = {"opened": seen}
    if seen["view"] != "form-view":
        return out
    button = form.get("button") or ("Join" if kind == "accept" else "Set the new password")
    if kind == "accept":
        page.get_by_label("First name", exact=True).fill(form["first_name"])
        page.get_by_label("Last name", exact=True).fill(form["last_name"])
        out["email_field"] = page.locator("#email").input_value()
    shot(page, shots, f"{kind}-form")
    # 1. The passwords differ: the page says so and sends nothing.
    calls_before = len(watch.calls)
    fill_passwords(page, kind, form["password"], form["password"] + "x")
    page.get_by_role("button", name=button).click()
    out["mismatch"] = error_after(page, "")
    out["mismatch_calls"] = len(watch.calls) - calls_before
    out["mismatch_focused"] = page.evaluate("document.activeElement.id")
    # 2. The server refuses the password: its detail shows next to the form, which stays.
    fill_passwords(page, kind, form["short_password"], form["short_password"])
    page.get_by_role("button", name=button).click()
    out["refusal"] = error_after(page, out["mismatch"])
    out["form_after_refusal"] = page.locator("#form").is_visible()
    shot(page, shots, f"{kind}-refused-password")
    # 3. Done.
    fill_passwords(page, kind, form["password"], form["password"])
    page.get_by_role("button", name=button).click()
    page.wait_for_selector("#done:not([hidden])", state="visible")
    out["done"] = page.locator("#done").inner_text().strip()
    out["done_heading"] = page.locator("#done h1").inner_text().strip()
    out["url_after"] = page.url
    shot(page, shots, f"{kind}-done")
    return out


def shot(page, directory, name):
    if directory:
        page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--screenshots", help="save a PNG of each step into this directory")
    args = p.parse_args()
    request = json.load(sys.stdin)
    form = request.get("form")
    links = request.get("then_open", [])
    first = form["link"] if form else links[0]
    first = first["link"] if isinstance(first, dict) else first
    parts = urlsplit(first)
    watch = Watch(f"{parts.scheme}://{parts.netloc}")
    # Whatever happens, this process ends in bounded time.
    signal.alarm(WHOLE_RUN_SECONDS)
    result = {}
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as downloads:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            timeout=30_000,
            downloads_path=downloads,
        )
        try:
            context = browser.new_context(java_script_enabled=True)
            watch.attach(context)
            page = watch.page(context)
            try:
                if form:
                    result["form"] = submit_form(page, form, watch, args.screenshots)
                result["opened"] = []
                for i, link in enumerate(links):
                    page = watch.page(context)
                    if isinstance(link, dict):
                        seen = open_link(page, link["link"], link.get("password"))
                    else:
                        seen = open_link(page, link)
                    result["opened"].append(seen)
                    shot(page, args.screenshots, f"opened-{i}")
            except PlaywrightError as e:
                text = ""
                try:
                    text = page.locator("body").inner_text()
                except PlaywrightError:
                    pass
                print(f"browser.py: {e}\n--- page at {page.url} ---\n{text}", file=sys.stderr)
                print(f"console errors: {watch.console_errors}", file=sys.stderr)
                return 1
        finally:
            browser.close()
    result["console_errors"] = watch.console_errors
    result["blocked"] = watch.blocked
    result["calls"] = watch.calls
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
