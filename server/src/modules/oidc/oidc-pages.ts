/*
 * The few pages the OIDC library renders itself (its errors that cannot go back to the application, and the
 * logout confirmation), as plain HTML. They are served under a CSP that loads nothing but their inline style.
 */

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const style = `body{font:16px/1.5 system-ui,sans-serif;background:#f5f6f8;color:#1d2230;margin:0;padding:3rem 1rem}
main{max-width:26rem;margin:0 auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin:0 0 1rem}button{font:inherit;padding:.6rem 1rem;border-radius:6px;border:1px solid #3b5bdb;
background:#3b5bdb;color:#fff;cursor:pointer;margin-right:.5rem}button.secondary{background:#fff;color:#3b5bdb}
@media (prefers-color-scheme:dark){body{background:#14161c;color:#e4e6eb}main{background:#1e2129}
button.secondary{background:#1e2129;color:#91a7ff}}`;

function page(title: string, body: string): string {
  const head =
    `<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)} · Tessera</title><style>${style}</style>`;
  const main = `<main><h1>${escapeHtml(title)}</h1>${body}</main>`;
  return `<!doctype html><html lang="en"><head>${head}</head><body>${main}</body></html>`;
}

/** An error the library could not send back to the application (e.g. an unregistered redirect URI). */
export function errorPage(title: string, message: string): string {
  return page(title, `<p>${escapeHtml(message)}</p>`);
}

/**
 * RP-initiated logout: the library's form (its action and anti-forgery token) with a choice. "Sign out"
 * ends the Tessera sign-in too; "Stay signed in" only ends this application's.
 */
export function logoutPage(form: string, clientName: string | undefined): string {
  const who = clientName === undefined ? "The application" : escapeHtml(clientName);
  return page(
    "Sign out",
    `<p>${who} asks to sign you out. Sign out of Tessera as well?</p>${form.replace(
      "</form>",
      `<button type="submit" name="logout" value="yes" autofocus>Sign out</button>` +
        `<button type="submit" class="secondary">Stay signed in</button></form>`,
    )}`,
  );
}
