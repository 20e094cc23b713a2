//! HTML building blocks: escaping, the page layout, and the two assets (CSS, JS) Mimi serves itself
//! (no CDN: the console works offline). Every piece of text that came from an alert, the cluster,
//! a user or the configuration goes through [`esc`].

use std::fmt::Write as _;

use crate::strings::console as s;

/// Escapes text for HTML element content and double-quoted attributes (the same escaping as
/// every HTML message Mimi sends).
pub use crate::notify::render::escape_html as esc;

/// Who is looking at the page (for the header and the forms' CSRF token).
pub struct Viewer<'a> {
    pub user: &'a str,
    pub csrf: &'a str,
}

/// A whole page. `live` makes the page refresh its `<main>` when incidents change.
pub fn page(title: &str, viewer: Option<&Viewer<'_>>, live: bool, main: &str) -> String {
    let mut h = String::with_capacity(main.len() + 1024);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · {}</title><link rel=\"stylesheet\" href=\"/static/console.css\">\
         <script src=\"/static/console.js\" defer></script></head><body{}>",
        esc(title),
        s::TITLE,
        if live { " data-live=\"1\"" } else { "" }
    );
    h.push_str("<header><a class=\"brand\" href=\"/\">Mimi</a>");
    if let Some(v) = viewer {
        let _ = write!(
            h,
            "<nav><a href=\"/\">{}</a> <a href=\"/question\">{}</a> <a href=\"/settings\">{}</a></nav>\
             <form method=\"post\" action=\"/logout\" class=\"signout\">{}<span id=\"who\">{}</span> \
             <button type=\"submit\">{}</button></form>",
            s::INCIDENTS,
            s::ASK,
            s::SETTINGS,
            csrf_field(v.csrf),
            esc(&s::signed_in_as(v.user)),
            s::SIGN_OUT
        );
    }
    h.push_str("</header><main>");
    h.push_str(main);
    h.push_str("</main></body></html>");
    h
}

pub fn csrf_field(token: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(token))
}

/// A notice box: `kind` is `ok` or `error`.
pub fn notice(kind: &str, text: &str) -> String {
    format!("<p class=\"notice {kind}\" role=\"status\">{}</p>", esc(text))
}

pub const CSS: &str = r#"
:root { --fg:#1d2430; --muted:#5b6575; --line:#d9dee7; --bg:#f6f7f9; --ok:#1f7a3f; --bad:#b3261e; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.2rem; background:#fff; border-bottom:1px solid var(--line); }
header nav a { margin-right:1rem; }
.brand { font-weight:700; text-decoration:none; color:var(--fg); }
.signout { margin-left:auto; color:var(--muted); }
main { max-width:1100px; margin:1.2rem auto; padding:0 1.2rem; }
a { color:#1a55c4; }
table { width:100%; border-collapse:collapse; background:#fff; }
th, td { text-align:left; padding:.45rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
section { background:#fff; border:1px solid var(--line); border-radius:6px; padding:.8rem 1rem; margin:0 0 1rem; }
h1 { font-size:1.35rem; } h2 { font-size:1.05rem; margin-top:0; }
pre { white-space:pre-wrap; word-break:break-word; background:#f0f2f5; padding:.6rem; border-radius:4px; font-size:13px; }
.state { display:inline-block; padding:0 .45rem; border-radius:9px; background:#e8ebf0; font-size:13px; }
.state.verified, .state.resolved { background:#dcf3e4; color:var(--ok); }
.state.awaiting_approval { background:#fff1cc; color:var(--warn); }
.state.failed, .state.not_fixed, .state.refused { background:#fbe0de; color:var(--bad); }
.risk-high, .risk-critical { color:var(--bad); font-weight:600; }
.notice { padding:.55rem .8rem; border-radius:4px; background:#e8f1ff; }
.notice.error { background:#fbe0de; color:var(--bad); }
.notice.ok { background:#dcf3e4; color:var(--ok); }
.proposal { border-top:1px solid var(--line); padding:.6rem 0; }
.proposal form { display:inline; }
button { font:inherit; padding:.3rem .8rem; border-radius:4px; border:1px solid var(--line); background:#fff; cursor:pointer; }
button.approve { background:var(--ok); color:#fff; border-color:var(--ok); }
button.reject { color:var(--bad); }
input[type=text], input[type=password] { font:inherit; padding:.35rem .5rem; border:1px solid var(--line); border-radius:4px; width:100%; max-width:28rem; }
.muted { color:var(--muted); }
"#;

pub const JS: &str = r#"
// Mimi console: confirmations and live refresh (server-sent events). No other script runs here.
document.addEventListener('submit', function (e) {
  var msg = e.target.getAttribute('data-confirm');
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
if (document.body.dataset.live) {
  var busy = false;
  var refresh = function () {
    if (busy) { return; }
    var active = document.activeElement;
    if (active && active.closest && active.closest('form') && active.tagName === 'INPUT') { return; }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.querySelector('main');
        var main = document.querySelector('main');
        if (fresh && main) { main.replaceWith(fresh); }
      })
      .finally(function () { busy = false; });
  };
  var source = new EventSource('/live');
  source.addEventListener('changed', refresh);
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_that_could_open_markup_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("plain"), "plain");
    }

    #[test]
    fn the_page_carries_the_csrf_token_and_the_user_escaped() {
        let v = Viewer { user: "<b>eve</b>", csrf: "tok\"en" };
        let html = page("t", Some(&v), true, "<p>x</p>");
        assert!(html.contains("tok&quot;en"));
        assert!(html.contains("&lt;b&gt;eve&lt;/b&gt;"));
        assert!(!html.contains("<b>eve"));
        assert!(html.contains("data-live=\"1\""));
    }
}
