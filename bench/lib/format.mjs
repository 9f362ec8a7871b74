// What both summary scripts (summary.mjs, engines-summary.mjs) print figures with.

export const median = (values) => {
  if (!values?.length) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** A figure with as many decimals as its size deserves; '—' for none. */
export const fmt = (v) => {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—'
  const abs = Math.abs(v)
  return v.toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3 })
}
