/**
 * The playground's HTML and CSS, and the sign-in form that a browser gets with the 401 of an App
 * with auth on. Plain HTML: the page's script (`bundle.ts`) is inlined, nothing loads from
 * another site.
 *
 * @module
 */

/**
 * The playground page.
 *
 * @param path Where it is served.
 * @param script Its script (an ES module).
 * @returns The HTML.
 */
export function playgroundHtml(path: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>rally playground</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1><span class="brand">rally</span> playground <span id="title"></span></h1>
  <p id="status" role="status"></p>
  <form id="credentials-form" autocomplete="off">
    <label>Key or token <input id="credentials" type="password" placeholder="when the app has auth"></label>
    <button type="submit">Use</button>
  </form>
</header>
<div id="app" data-docs="${escapeHtml(path)}">
  <nav id="routes"><p class="muted">Loading /openapi.json…</p></nav>
  <main id="panel"></main>
</div>
<script type="module">${inlineScript(script)}</script>
</body>
</html>
`;
}

/**
 * The sign-in form of a playground behind auth: a token opens the page with `?token=`; a key is
 * traded for a one-hour token at `POST /tokens` first, so that no key lands in a URL.
 *
 * @param path Where the playground is served.
 * @returns The HTML.
 */
export function signInHtml(path: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>rally playground: sign in</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1><span class="brand">rally</span> playground</h1></header>
<main class="sign-in" data-docs="${escapeHtml(path)}">
  <p>This app needs credentials. Enter an API key (it is traded for a one-hour token at
  <code>POST /tokens</code>) or a token.</p>
  <form id="sign-in" autocomplete="off">
    <input id="credentials" type="password" placeholder="key or token" required>
    <button type="submit">Open the playground</button>
  </form>
  <p id="status" role="status"></p>
</main>
<script type="module">${SIGN_IN_SCRIPT}</script>
</body>
</html>
`;
}

/** Keep an inlined script from ending the `<script>` element early. */
function inlineScript(script: string): string {
  return script.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SIGN_IN_SCRIPT = `
const main = document.querySelector("main");
const docs = main.dataset.docs;
const prefix = location.pathname.endsWith(docs) ? location.pathname.slice(0, -docs.length) : "";
const status = document.getElementById("status");
const JWT = /^[\\w-]+\\.[\\w-]+\\.[\\w-]+$/;
document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = document.getElementById("credentials").value.trim();
  let token = value;
  if (!JWT.test(value)) {
    status.textContent = "Trading the key for a token…";
    const headers = { authorization: "Key " + value, "content-type": "application/json" };
    const doc = await fetch(prefix + "/openapi.json", { headers });
    if (!doc.ok) {
      status.textContent = doc.status + ": " + ((await doc.json()).detail ?? "refused");
      return;
    }
    const app = (await doc.json()).info.title;
    const body = JSON.stringify({ allowed_apps: [app], token_expiration: 3600 });
    const minted = await fetch(prefix + "/tokens", { method: "POST", headers, body });
    if (!minted.ok) {
      status.textContent = minted.status + ": " + ((await minted.json()).detail ?? "refused");
      return;
    }
    token = await minted.json();
  }
  location.search = "?token=" + encodeURIComponent(token);
});
`;

const STYLE = `
:root { color-scheme: light dark; --fg: #1d1f23; --bg: #fafafa; --panel: #fff; --line: #d9dce1;
  --muted: #6b7280; --accent: #2563eb; --in: #0f766e; --out: #1d4ed8; --meta: #7c3aed;
  --err: #b91c1c; --errbg: #fdecec; --metabg: #f3eefe; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --bg: #15171a; --panel: #1d2024;
  --line: #33373d; --muted: #9aa1ab; --accent: #60a5fa; --in: #5eead4; --out: #93c5fd;
  --meta: #c4b5fd; --err: #fca5a5; --errbg: #3a1d1d; --metabg: #2a2140; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; justify-content: space-between; gap: 1rem;
  padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { font-size: 1.05rem; margin: 0; font-weight: 600; }
h1 #title { color: var(--muted); font-weight: 400; margin-left: .4rem; }
.brand { color: var(--accent); }
h2 { font-size: 1rem; margin: 0 0 .6rem; display: flex; gap: .5rem; align-items: baseline; }
h3 { font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  margin: .9rem 0 .3rem; }
code, pre, textarea, .mono { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
#app { display: grid; grid-template-columns: 15rem 1fr; min-height: calc(100vh - 3rem); }
nav { border-right: 1px solid var(--line); padding: .2rem .8rem 1rem; background: var(--panel); }
nav button { display: block; width: 100%; text-align: left; border: 0; background: none;
  padding: .25rem .4rem; border-radius: 4px; color: inherit; cursor: pointer; }
nav button:hover { background: var(--bg); }
nav button[aria-current="true"] { background: var(--accent); color: #fff; }
nav .mode { color: var(--muted); font-size: .8em; margin-left: .3rem; }
nav button[aria-current="true"] .mode { color: #dbeafe; }
main { padding: 1rem 1.2rem; min-width: 0; }
.kind { font-size: .75rem; color: var(--muted); font-weight: 400; }
.row-buttons { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin: .5rem 0; }
button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--line); border-radius: 5px;
  background: var(--panel); color: inherit; cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button:disabled { opacity: .45; cursor: default; }
input[type="number"] { width: 4.5rem; }
input, textarea { font: inherit; color: inherit; background: var(--panel); border: 1px solid var(--line);
  border-radius: 5px; padding: .3rem .4rem; }
textarea { width: 100%; min-height: 4.5rem; resize: vertical; }
.bytes-field { display: flex; gap: .6rem; align-items: center; margin: .3rem 0; flex-wrap: wrap; }
.bytes-field b { font-weight: 600; }
.status-line { margin: .4rem 0; font-weight: 600; }
.status-line.ok { color: var(--in); } .status-line.bad { color: var(--err); }
.limits { color: var(--muted); margin: .2rem 0 .5rem; }
.log { border: 1px solid var(--line); border-radius: 6px; background: var(--panel);
  max-height: 26rem; overflow: auto; }
.log:empty::before { content: "Nothing yet."; display: block; padding: .5rem; color: var(--muted); }
.entry { display: grid; grid-template-columns: 4.8rem 1rem 8.4rem 1fr auto; gap: .4rem;
  padding: .25rem .5rem; border-bottom: 1px solid var(--line); align-items: start; }
.entry:last-child { border-bottom: 0; }
.entry .t, .entry .rtt { color: var(--muted); font-size: .8rem; white-space: nowrap; }
.entry .tag { font-size: .75rem; font-weight: 600; text-transform: uppercase; }
.entry.out .tag, .entry.out .dir { color: var(--out); }
.entry.in .tag, .entry.in .dir { color: var(--in); }
.entry.meta { background: var(--metabg); } .entry.meta .tag { color: var(--meta); }
.entry.error { background: var(--errbg); } .entry.error .tag { color: var(--err); }
.entry.info .tag { color: var(--muted); }
.entry pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
.preview { display: flex; gap: .5rem; align-items: center; margin-top: .2rem; color: var(--muted); }
.preview img { max-height: 4rem; max-width: 8rem; border: 1px solid var(--line); }
.muted { color: var(--muted); }
#status { flex: 1; margin: 0; color: var(--muted); font-size: .85rem; }
#status.bad { color: var(--err); }
.sign-in { max-width: 32rem; margin: 3rem auto; }
.sign-in form { display: flex; gap: .5rem; } .sign-in input { flex: 1; }
`;
