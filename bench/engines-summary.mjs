// Chromium and Firefox side by side, from one results file per engine (each written by
// `npm run bench [-- --browser firefox]`): every figure and every ratio both runs have, each
// ratio taken within its own engine's run (engines are never divided by each other).
// node bench/summary.mjs --engines [chromium.json] [firefox.json]
import { existsSync, readFileSync } from 'node:fs'
import { fmt, median } from './lib/format.mjs'

const [chromiumFile, firefoxFile] = [
  process.argv[3] ?? new URL('./results/latest.json', import.meta.url).pathname,
  process.argv[4] ?? new URL('./results/latest-firefox.json', import.meta.url).pathname,
]
for (const file of [chromiumFile, firefoxFile]) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run bench${file === firefoxFile ? ' -- --browser firefox' : ''} first`)
}
const runs = [chromiumFile, firefoxFile].map((file) => JSON.parse(readFileSync(file, 'utf8')))

const table = (head, lines) => [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n')
const load = (run) => `${Math.min(...run.loadAverage.map((l) => l[0])).toFixed(1)}–${Math.max(...run.loadAverage.map((l) => l[0])).toFixed(1)}`
// `chromium` holds the version of whichever engine ran (the name predates other engines).
const engineOf = (run) => run.chromium
const head = ['', ...runs.map((run) => engineOf(run).replace(/ built on.*$/, ''))]

const out = []
for (const run of runs) out.push(`- ${engineOf(run)}: ${run.mode} run, commit ${run.commit}, ${run.reps} rep(s), load average ${load(run)}, ${run.date?.slice(0, 10) ?? ''}`)
const byId = runs.map((run) => new Map(run.rows.map((row) => [row.id, row])))
const ids = runs[0].rows.map((row) => row.id).filter((id) => runs.some((_, i) => byId[i].has(id)))
for (const id of runs[1].rows.map((row) => row.id)) if (!ids.includes(id)) ids.push(id)
let group
const lines = []
for (const id of ids) {
  const row = byId[0].get(id) ?? byId[1].get(id)
  if (row.group !== group) {
    group = row.group
    lines.push([`**${group}**`, '', ''])
  }
  lines.push([`${row.label}${row.size ? `, ${row.size}` : ""} (${row.unit})`, ...byId.map((rows) => fmt(median(rows.get(id)?.values)))])
}
out.push('', table(head, lines))
const ratioLabels = [...new Set(runs.flatMap((run) => run.ratios.map((r) => r.label)))]
const ratioOf = (run, label) => run.ratios.find((r) => r.label === label)?.value
out.push('', '**Ratios, each within its engine\'s run**', '')
out.push(table(head, ratioLabels.map((label) => [label, ...runs.map((run) => { const v = ratioOf(run, label); return v === undefined || v === null ? '—' : `${v.toFixed(2)}×` })])))
console.log(out.join('\n'))
