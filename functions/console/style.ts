/** The console's whole stylesheet: system fonts, readable contrast, visible focus. */
export const CONSOLE_CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#5b636e;--line:#d0d7de;--accent:#0b5cad;--ok:#1a7f37;--warn:#9a6700;--bad:#c0262d;--panel:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9aa4af;--line:#30363d;--accent:#58a6ff;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--panel:#161b22}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:4px 8px;z-index:1}
header{display:flex;gap:24px;align-items:center;padding:8px 24px;border-bottom:1px solid var(--line);background:var(--panel)}
.brand{font-weight:600}
nav ul{display:flex;gap:16px;list-style:none;margin:0;padding:0}
nav a[aria-current=page]{font-weight:600;text-decoration:none;border-bottom:2px solid var(--accent)}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:var(--panel)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:16px}
.chart{border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.chart h2{margin-top:0}
.bars th{font-weight:normal;white-space:nowrap;border:0}.bars td{border:0}
.count{text-align:right;width:3em;font-variant-numeric:tabular-nums}
.bar-cell{width:60%}.bar{display:block;height:12px;background:var(--accent);border-radius:2px;min-width:2px}
.badge{display:inline-block;padding:0 6px;border-radius:10px;border:1px solid var(--line);font-size:.85em}
.badge.ok{color:var(--ok);border-color:var(--ok)}.badge.warn{color:var(--warn);border-color:var(--warn)}.badge.bad{color:var(--bad);border-color:var(--bad)}
.muted{color:var(--muted)}
.error-text{color:var(--bad)}
.notice{border-left:4px solid var(--ok);padding:4px 12px;background:var(--panel)}
.error{border-left:4px solid var(--bad);padding:4px 12px;background:var(--panel)}
pre.code{background:var(--panel);border:1px solid var(--line);padding:8px;overflow:auto;max-height:28em;font-size:13px}
form.inline,div.inline{display:flex;gap:8px;align-items:end;flex-wrap:wrap;margin:8px 0}
label{display:flex;flex-direction:column;font-size:.9em;gap:2px}
input,select,textarea,button{font:inherit;padding:4px 6px;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg)}
textarea{width:100%;font-family:ui-monospace,monospace;font-size:13px}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
ul.tree{list-style:none;padding-left:1.2em;margin:0}ul.tree li{margin:2px 0}
.pager{display:flex;gap:16px;margin:12px 0}
pre.diff ins,pre.diff del{text-decoration:none}pre.diff ins{background:rgba(26,127,55,.18)}pre.diff del{background:rgba(192,38,45,.18)}
pre.diff .diff-hunk{color:var(--accent)}pre.diff .diff-file,pre.diff .diff-meta{font-weight:600}
code{font-family:ui-monospace,monospace;font-size:.9em}
`;
