// Results: every configuration keeps its per-rep values; the table prints the median with
// [min, max], and a ratio against a baseline measured in the same run.

export interface Row {
  group: string
  /** Stable id, used by ratios and targets. */
  id: string
  label: string
  size: string
  unit: string
  /** Higher is better (throughput) or lower is better (latency, time, bytes). */
  better: 'higher' | 'lower'
  values: number[]
  /** Anything worth keeping next to the figure (failures, reorderings, notes). */
  notes?: string[]
}

export interface Ratio {
  /** Row ids: ratio = median(of) / median(to). */
  of: string
  to: string
  label: string
}

export interface Target {
  label: string
  /** Ratio or absolute check; returns the figure shown and whether it passes. */
  check(get: (id: string) => number | undefined): { figure: string; met: boolean | undefined }
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export class Results {
  readonly rows: Row[] = []
  readonly ratios: Ratio[] = []
  readonly targets: Target[] = []

  add(row: Omit<Row, 'values'> & { values?: number[] }): Row {
    let existing = this.rows.find((r) => r.id === row.id)
    if (!existing) {
      existing = { ...row, values: row.values ?? [] }
      this.rows.push(existing)
    } else if (row.values) existing.values.push(...row.values)
    return existing
  }

  push(id: string, value: number, note?: string): void {
    const row = this.rows.find((r) => r.id === id)
    if (!row) throw new Error(`no row ${id}`)
    if (Number.isFinite(value)) row.values.push(value)
    if (note) (row.notes ??= []).push(note)
  }

  get(id: string): number | undefined {
    const row = this.rows.find((r) => r.id === id)
    if (!row || row.values.length === 0) return undefined
    return median(row.values)
  }

  ratio(of: string, to: string, label: string): void {
    this.ratios.push({ of, to, label })
  }
}

export const fmt = (value: number | undefined, unit = ''): string => {
  if (value === undefined || !Number.isFinite(value)) return '—'
  const abs = Math.abs(value)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
  return unit ? `${text} ${unit}` : text
}

const pad = (cells: string[][]): string => {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)))
  const line = (row: string[]) => `| ${row.map((cell, i) => (i >= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`
  return [line(cells[0]!), `|${widths.map((w, i) => (i >= 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`, ...cells.slice(1).map(line)].join('\n')
}

/** The main table: one line per row, median [min, max] unit, reps. */
export function table(results: Results): string {
  const cells = [['group', 'benchmark', 'size', 'median', '[min, max]', 'unit', 'reps']]
  for (const row of results.rows) {
    const { values } = row
    const range = values.length > 1 ? `[${fmt(Math.min(...values))}, ${fmt(Math.max(...values))}]` : ''
    cells.push([row.group, row.label, row.size, fmt(median(values)), range, row.unit, String(values.length)])
  }
  return pad(cells)
}

export function ratioTable(results: Results): string {
  const cells = [['ratio (same run)', 'of', 'to', 'ratio']]
  for (const ratio of results.ratios) {
    const a = results.get(ratio.of)
    const b = results.get(ratio.to)
    cells.push([ratio.label, fmt(a), fmt(b), a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`])
  }
  return pad(cells)
}

export function targetTable(results: Results): string {
  const cells = [['target', 'figure', 'met', '']]
  for (const target of results.targets) {
    const { figure, met } = target.check((id) => results.get(id))
    cells.push([target.label, figure, met === undefined ? 'n/a' : met ? 'yes' : 'NO', ''])
  }
  return pad(cells.map((row) => row.slice(0, 3)))
}
