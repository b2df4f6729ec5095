//! The pages behind the links Warden emails: `/invitations/accept` (join an organization:
//! choose a name and a password) and `/password-reset` (choose a new password). Each is a
//! static HTML page with one shared script and style sheet, embedded in the binary; the
//! script reads the link's secret from the URL's fragment (which browsers never send to a
//! server), clears it from the address bar and calls the JSON API (`/v1/invitations/inspect`
//! and `/accept`, `/v1/password-resets/complete`). No secret ever reaches these routes.
//!
//! Plain routes, not OpenAPI operations: they are for people, not programs. Every answer
//! forbids inline script and style, framing, referrers and content sniffing.

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;

/// What the pages may load and do: their own script, style and API, nothing inline, no
/// framing, no forms posted elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const ACCEPT_PAGE: &str = include_str!("pages/accept.html");
const RESET_PAGE: &str = include_str!("pages/reset.html");
const SCRIPT: &str = include_str!("pages/pages.js");
const STYLE: &str = include_str!("pages/pages.css");

/// The pages and their assets.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/invitations/accept", get(accept_page))
        .route("/password-reset", get(reset_page))
        .route("/assets/pages.js", get(script))
        .route("/assets/pages.css", get(style))
}

async fn accept_page() -> Response {
    page(ACCEPT_PAGE, HTML, "no-store")
}

async fn reset_page() -> Response {
    page(RESET_PAGE, HTML, "no-store")
}

async fn script() -> Response {
    page(SCRIPT, JAVASCRIPT, "no-cache")
}

async fn style() -> Response {
    page(STYLE, CSS, "no-cache")
}

/// `body` as `content_type`, with the headers every page and asset carries. Pages are never
/// stored (`no-store`); assets are revalidated (`no-cache`), so an upgraded server's pages
/// never run an older script.
fn page(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, cache),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// The CSP forbids inline script and style: the pages must not need any.
    #[test]
    fn the_pages_have_no_inline_script_or_style() {
        for page in [ACCEPT_PAGE, RESET_PAGE] {
            assert!(!page.contains("<style"), "{page}");
            assert!(!page.contains(" style="), "{page}");
            assert!(!page.contains("javascript:"), "{page}");
            for (i, _) in page.match_indices("<script") {
                let tag = &page[i..i + page[i..].find('>').unwrap()];
                assert!(tag.contains("src=\"/assets/pages.js\""), "{tag}");
            }
            let lower = page.to_lowercase();
            for handler in [" onload=", " onclick=", " onsubmit=", " onerror="] {
                assert!(!lower.contains(handler), "{handler} in {page}");
            }
        }
        assert!(!SCRIPT.contains("innerHTML"), "text goes in as text");
        assert!(!SCRIPT.contains("eval("));
    }
}
