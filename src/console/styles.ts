/** The console's stylesheet, scoped to its shadow root. Light and dark follow the system unless forced. */
export const STYLES = /* css */ `
:host { all: initial; display: block; }
.wc {
  --bg: #f5f6f8; --panel: #ffffff; --panel-2: #f9fafb; --text: #1d2330; --muted: #687083; --faint: #9aa1b0;
  --border: #e3e6ec; --border-strong: #cfd4dd; --accent: #e8620c; --accent-soft: #fdebdd; --accent-ink: #ffffff;
  --ok: #0f9d6b; --warn: #c27803; --bad: #d92d20; --info: #2563eb;
  --publish: #f08c00; --deliver: #2f7cf6; --ack: #12a36f; --redeliver: #e5484d; --ready: #7c5cf6; --unacked: #e0599b;
  --shadow: 0 1px 2px rgb(16 24 40 / 6%), 0 1px 3px rgb(16 24 40 / 8%);
  --radius: 10px; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  container-type: inline-size;
  position: relative; box-sizing: border-box; min-height: 100%;
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text); background: var(--bg);
  -webkit-font-smoothing: antialiased; font-variant-numeric: tabular-nums;
}
.wc.dark {
  --bg: #0e1116; --panel: #161a22; --panel-2: #1b2029; --text: #e5e8ef; --muted: #9aa3b5; --faint: #6b7385;
  --border: #252b36; --border-strong: #343b49; --accent: #ff8a3d; --accent-soft: #3a2414; --accent-ink: #1b0e05;
  --ok: #34d399; --warn: #fbbf24; --bad: #f87171; --info: #60a5fa;
  --publish: #ffa94d; --deliver: #5b9dff; --ack: #3ddc97; --redeliver: #ff6b6b; --ready: #a18bff; --unacked: #ff7ab6;
  --shadow: 0 1px 2px rgb(0 0 0 / 40%);
}
.wc *, .wc *::before, .wc *::after { box-sizing: border-box; }
.wc [hidden] { display: none !important; }
.wc h1, .wc h2, .wc h3 { margin: 0; font-weight: 600; }

/* ---------------------------------------------------------------- header */
.top { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; padding: 12px 16px; background: var(--panel); border-bottom: 1px solid var(--border); position: sticky; top: 0; z-index: 5; }
.brand { display: flex; align-items: center; gap: 8px; font-size: 15px; font-weight: 700; letter-spacing: -0.01em; }
.brand svg { width: 22px; height: 22px; color: var(--accent); }
.brand small { font-weight: 500; color: var(--muted); font-size: 12px; }
.status { display: inline-flex; align-items: center; gap: 6px; padding: 2px 9px 2px 7px; border-radius: 99px; font-size: 12px; font-weight: 500; background: var(--panel-2); border: 1px solid var(--border); color: var(--muted); }
.status i { width: 7px; height: 7px; border-radius: 50%; background: var(--faint); }
.status.connected i { background: var(--ok); box-shadow: 0 0 0 3px color-mix(in srgb, var(--ok) 20%, transparent); }
.status.reconnecting i { background: var(--warn); animation: pulse 1s infinite; }
.status.closed i { background: var(--bad); }
@keyframes pulse { 50% { opacity: .3 } }
.spacer { flex: 1; }
.meta { color: var(--muted); font-size: 12px; display: flex; gap: 10px; align-items: center; }
.meta code { font-family: var(--mono); font-size: 11.5px; color: var(--text); }
.meta .storage.unavailable code { color: var(--bad); font-weight: 600; }
.vhost { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }

/* ---------------------------------------------------------------- layout */
.body { padding: 14px 16px 40px; display: grid; grid-template-columns: minmax(0, 1fr); gap: 14px; }
.body > * { min-width: 0; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius); box-shadow: var(--shadow); }
.stats { display: grid; grid-template-columns: repeat(8, minmax(0, 1fr)); gap: 8px; }
@container (max-width: 640px) { .stats { grid-template-columns: repeat(4, minmax(0, 1fr)); } }
.stat { padding: 9px 11px; min-width: 0; }
.stat span { display: block; font-size: 11.5px; color: var(--muted); font-weight: 550; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.stat b { font-size: 19px; font-weight: 650; letter-spacing: -0.02em; }
.stat > div { margin-top: 2px; white-space: nowrap; }
.stat small { color: var(--muted); font-weight: 500; font-size: 12px; margin-left: 2px; }
.stat.s-publish b { color: var(--publish); } .stat.s-deliver b { color: var(--deliver); } .stat.s-ack b { color: var(--ack); }
.charts { display: grid; grid-template-columns: 3fr 2fr; gap: 10px; }
@container (max-width: 720px) { .charts { grid-template-columns: 1fr; } }
.chart { padding: 10px 12px 12px; min-width: 0; }
.chart header { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; flex-wrap: wrap; margin-bottom: 6px; }
.chart h3 { font-size: 12.5px; }
.legend { display: flex; gap: 10px; flex-wrap: wrap; font-size: 12px; color: var(--muted); }
.legend .key { display: inline-flex; align-items: center; gap: 5px; }
.legend .key i { width: 9px; height: 9px; border-radius: 2px; background: currentColor; }
.legend .key b { color: var(--text); font-weight: 600; }
.legend small { margin-left: 1px; }
.key.s-publish i { color: var(--publish); } .key.s-deliver i { color: var(--deliver); } .key.s-ack i { color: var(--ack); }
.key.s-redeliver i { color: var(--redeliver); } .key.s-ready i { color: var(--ready); } .key.s-unacked i { color: var(--unacked); }
.plot-wrap { position: relative; height: 132px; padding-left: 44px; }
.plot { height: 100%; border-left: 1px solid var(--border); }
.plot svg { display: block; width: 100%; height: 100%; overflow: visible; }
.axis { position: absolute; left: 0; width: 40px; text-align: right; font-size: 10.5px; color: var(--faint); }
.axis.top { top: -6px; } .axis.mid { top: calc(50% - 7px); } .axis.span { bottom: -16px; left: auto; right: 0; width: auto; }
svg .grid { stroke: var(--border); stroke-width: 1; stroke-dasharray: 3 4; }
svg .base { stroke: var(--border-strong); stroke-width: 1; }
svg .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
svg .area { stroke: none; opacity: .14; }
svg .s-publish { stroke: var(--publish); fill: var(--publish); } svg .line.s-publish { fill: none; }
svg .s-deliver { stroke: var(--deliver); } svg .s-ack { stroke: var(--ack); } svg .s-redeliver { stroke: var(--redeliver); }
svg .s-ready { stroke: var(--ready); fill: var(--ready); } svg .line.s-ready { fill: none; }
svg .s-unacked { stroke: var(--unacked); fill: var(--unacked); } svg .line.s-unacked { fill: none; }
svg.spark { width: 96px; height: 24px; display: block; }
svg.spark .line { stroke-width: 1.4; }
svg.spark .area { opacity: .18; }

/* ---------------------------------------------------------------- tabs */
.tabs { display: flex; gap: 2px; border-bottom: 1px solid var(--border); }
.tabs button { all: unset; cursor: pointer; padding: 8px 12px; font-weight: 550; color: var(--muted); border-bottom: 2px solid transparent; margin-bottom: -1px; display: inline-flex; gap: 6px; align-items: center; }
.tabs button:hover { color: var(--text); }
.tabs button[aria-selected="true"] { color: var(--text); border-bottom-color: var(--accent); }
.tabs .count { font-size: 11px; padding: 0 6px; border-radius: 99px; background: var(--panel-2); border: 1px solid var(--border); color: var(--muted); font-weight: 600; }
.toolbar { display: flex; gap: 8px; align-items: center; margin: 10px 0; flex-wrap: wrap; }
.toolbar input[type=search] { flex: 1; min-width: 140px; max-width: 260px; }

/* ---------------------------------------------------------------- tables */
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; padding: 8px 10px; border-bottom: 1px solid var(--border); white-space: nowrap; background: var(--panel-2); }
th:first-child { border-top-left-radius: var(--radius); } th:last-child { border-top-right-radius: var(--radius); }
td { padding: 8px 10px; border-bottom: 1px solid var(--border); vertical-align: middle; white-space: nowrap; }
th.num, td.num { text-align: right; }
tbody.item > tr.row { cursor: pointer; }
tbody.item > tr.row:hover td { background: color-mix(in srgb, var(--accent) 4%, transparent); }
tbody.item.open > tr.row td { background: color-mix(in srgb, var(--accent) 7%, transparent); }
tbody.item:last-child > tr:last-child td { border-bottom: none; }
td.name { font-weight: 600; max-width: 340px; overflow: hidden; text-overflow: ellipsis; }
td.name .caret { display: inline-block; width: 12px; color: var(--faint); transition: transform .15s; }
tbody.open td.name .caret { transform: rotate(90deg); }
td.muted, .muted { color: var(--muted); }
@container (max-width: 880px) {
  .stat { padding: 8px 9px; }
  .stat span { font-size: 11px; }
  th, td { padding-left: 6px; padding-right: 6px; }
  td.name { max-width: 230px; }
  svg.spark { width: 72px; }
}
td.name .owner { font-weight: 400; color: var(--muted); margin-left: 8px; font-size: 12px; }
td .zero { color: var(--faint); }
td.detail { padding: 0; cursor: default; white-space: normal; background: var(--panel-2); }
.empty { padding: 22px; text-align: center; color: var(--muted); }
.empty b { display: block; color: var(--text); margin-bottom: 2px; }

.badge { display: inline-block; font-size: 10.5px; font-weight: 650; padding: 1px 6px; border-radius: 5px; margin-left: 4px; background: var(--panel-2); color: var(--muted); border: 1px solid var(--border); vertical-align: 1px; letter-spacing: .02em; }
.badge.durable { color: var(--info); border-color: color-mix(in srgb, var(--info) 35%, transparent); background: color-mix(in srgb, var(--info) 8%, transparent); }
.badge.dlx { color: var(--redeliver); border-color: color-mix(in srgb, var(--redeliver) 35%, transparent); background: color-mix(in srgb, var(--redeliver) 8%, transparent); }
.badge.type { font-family: var(--mono); font-weight: 500; margin-left: 0; }
.kind { display: inline-flex; align-items: center; gap: 5px; font-size: 12px; padding: 1px 8px 1px 6px; border-radius: 99px; border: 1px solid var(--border); background: var(--panel-2); }
.kind i { width: 7px; height: 7px; border-radius: 2px; background: var(--faint); }
.kind.window i { background: var(--deliver); } .kind.iframe i { background: var(--ready); } .kind.dedicated-worker i { background: var(--publish); }
.kind.service-worker i { background: var(--ack); } .kind.shared-worker i { background: var(--unacked); }
.live { display: inline-flex; align-items: center; gap: 5px; font-size: 12px; color: var(--muted); }
.live i { width: 7px; height: 7px; border-radius: 50%; background: var(--faint); }
.live.held i { background: var(--ok); } .live.released i { background: var(--bad); }

/* ---------------------------------------------------------------- detail panes and forms */
.pane { padding: 12px 14px 14px 26px; display: grid; gap: 12px; }
.pane h4 { margin: 0 0 6px; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.facts { display: flex; flex-wrap: wrap; gap: 6px 18px; font-size: 12px; color: var(--muted); }
.facts b { color: var(--text); font-weight: 600; }
.facts code, .mono { font-family: var(--mono); font-size: 11.5px; }
.subtable { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; overflow: hidden; }
.subtable td, .subtable th { padding: 6px 10px; }
.subtable tr:last-child td { border-bottom: none; }
.actions { display: flex; flex-wrap: wrap; gap: 6px; }
.wc button.btn { font: inherit; font-weight: 550; font-size: 12.5px; padding: 5px 11px; border-radius: 7px; border: 1px solid var(--border-strong); background: var(--panel); color: var(--text); cursor: pointer; }
.wc button.btn:hover { border-color: var(--faint); }
.wc button.btn.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
.wc button.btn.primary:hover { filter: brightness(1.05); }
.wc button.btn.danger { color: var(--bad); }
.wc button.btn.danger:hover { border-color: var(--bad); }
.wc button.btn.small { padding: 2px 8px; font-size: 12px; }
.wc button.btn:disabled { opacity: .5; cursor: default; }
.wc button.btn[aria-pressed="true"] { background: var(--accent-soft); border-color: var(--accent); }
form.form { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px 10px; align-items: end; background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: 10px 12px; }
form.form .wide { grid-column: 1 / -1; }
form.form .row { grid-column: 1 / -1; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
label.field { display: grid; gap: 3px; font-size: 11.5px; color: var(--muted); font-weight: 550; }
label.check { display: inline-flex; gap: 6px; align-items: center; font-size: 12.5px; color: var(--text); }
.wc input, .wc select, .wc textarea { font: inherit; font-size: 12.5px; color: var(--text); background: var(--panel); border: 1px solid var(--border-strong); border-radius: 6px; padding: 5px 8px; min-width: 0; width: 100%; }
.wc input[type=checkbox] { width: auto; accent-color: var(--accent); }
.wc input[type=number] { width: 100%; }
.wc textarea { font-family: var(--mono); font-size: 12px; resize: vertical; min-height: 60px; }
.wc input:focus, .wc select:focus, .wc textarea:focus { outline: 2px solid color-mix(in srgb, var(--accent) 45%, transparent); outline-offset: 0; border-color: var(--accent); }
.hint { font-size: 11.5px; color: var(--faint); }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chips button { all: unset; cursor: pointer; font-family: var(--mono); font-size: 11px; padding: 1px 6px; border-radius: 5px; border: 1px dashed var(--border-strong); color: var(--muted); }
.chips button:hover { color: var(--accent); border-color: var(--accent); }

.messages { display: grid; gap: 8px; }
.message { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; overflow: hidden; }
.message header { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 6px 10px; font-size: 12px; color: var(--muted); border-bottom: 1px solid var(--border); background: var(--panel-2); }
.message header b { color: var(--text); font-weight: 600; }
.message pre { margin: 0; padding: 8px 10px; font-family: var(--mono); font-size: 12px; white-space: pre-wrap; word-break: break-word; max-height: 220px; overflow: auto; }
.message .props { padding: 6px 10px; border-top: 1px dashed var(--border); font-size: 11.5px; color: var(--muted); font-family: var(--mono); white-space: pre-wrap; word-break: break-word; }
.redelivered { color: var(--redeliver) !important; }

/* ---------------------------------------------------------------- toasts */
.toasts { position: fixed; right: 16px; bottom: 16px; display: grid; gap: 6px; z-index: 50; max-width: min(420px, calc(100vw - 32px)); }
.toast { background: var(--panel); color: var(--text); border: 1px solid var(--border); border-left: 3px solid var(--ok); border-radius: 8px; padding: 8px 12px; box-shadow: 0 6px 24px rgb(0 0 0 / 18%); font-size: 12.5px; animation: rise .18s ease-out; }
.toast.error { border-left-color: var(--bad); }
@keyframes rise { from { transform: translateY(6px); opacity: 0 } }
.banner { padding: 10px 14px; border-radius: var(--radius); background: color-mix(in srgb, var(--warn) 12%, var(--panel)); border: 1px solid color-mix(in srgb, var(--warn) 40%, transparent); color: var(--text); }
`
