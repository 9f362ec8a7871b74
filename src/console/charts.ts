/**
 * Inline SVG charts: a rate chart (publish, deliver, ack, redeliver per second over the last
 * minute) and a sparkline per queue. The SVG stretches to its box; strokes do not scale.
 */
import type { RateSample, Rates } from '../protocol/management.js'
import { h, setText, svg } from './dom.js'
import { fmtCount, fmtRate } from './format.js'

export const SERIES: ReadonlyArray<{ key: keyof Rates; label: string }> = [
  { key: 'publish', label: 'Publish' },
  { key: 'deliver', label: 'Deliver' },
  { key: 'ack', label: 'Ack' },
  { key: 'redeliver', label: 'Redeliver' },
]

/** 1, 2, 5 × 10ⁿ at or above `value`, so axes read well. */
export function niceMax(value: number): number {
  if (value <= 0) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power
  return 10 * power
}

/** Points of `values` laid out right-aligned over `slots` positions. */
function points(values: readonly number[], slots: number, width: number, height: number, max: number): string {
  const offset = slots - values.length
  return values
    .map((value, i) => {
      const x = slots <= 1 ? width : ((offset + i) / (slots - 1)) * width
      const y = height - (Math.min(value, max) / max) * height
      return `${x.toFixed(1)},${y.toFixed(1)}`
    })
    .join(' ')
}

function series(values: readonly number[], slots: number, width: number, height: number, max: number, name: string, fill: boolean): SVGElement[] {
  if (values.length === 0) return []
  const line = points(values, slots, width, height, max)
  const out: SVGElement[] = []
  if (fill && values.length > 1) {
    const first = line.split(' ')[0]!.split(',')[0]
    out.push(svg('polygon', { class: `area s-${name}`, points: `${first},${height} ${line} ${width},${height}` }))
  }
  out.push(svg('polyline', { class: `line s-${name}`, points: line, 'vector-effect': 'non-scaling-stroke' }))
  return out
}

/** A queue's sparkline: publish, deliver and ack rates over its short history (quiet lines left out). */
export function sparkline(history: readonly RateSample[], slots: number): SVGSVGElement {
  const width = 100
  const height = 24
  const max = niceMax(Math.max(1, ...history.map((s) => Math.max(s.publish, s.deliver, s.ack))))
  const active = (values: number[]) => (values.some((v) => v > 0) ? values : [])
  return svg(
    'svg',
    { class: 'spark', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    svg('line', { class: 'base', x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5, 'vector-effect': 'non-scaling-stroke' }),
    series(active(history.map((s) => s.publish)), slots, width, height, max, 'publish', true),
    series(active(history.map((s) => s.deliver)), slots, width, height, max, 'deliver', false),
    series(active(history.map((s) => s.ack)), slots, width, height, max, 'ack', false),
  )
}

export interface ChartHandle {
  readonly el: HTMLElement
  update(history: readonly RateSample[], current: Rates, slots: number, sampleInterval: number): void
}

/** The overview chart: four rate lines with a legend that shows the current values. */
export function rateChart(title: string): ChartHandle {
  const plot = h('div', { class: 'plot' })
  const top = h('span', { class: 'axis top' })
  const mid = h('span', { class: 'axis mid' })
  const span = h('span', { class: 'axis span' })
  const values = new Map<keyof Rates, HTMLElement>()
  const legend = h(
    'div',
    { class: 'legend' },
    SERIES.map(({ key, label }) => {
      const value = h('b', { 'data-rate': key }, '0')
      values.set(key, value)
      return h('span', { class: `key s-${key}` }, h('i'), label, ' ', value, h('small', null, '/s'))
    }),
  )
  const el = h('section', { class: 'chart card' }, h('header', null, h('h3', null, title), legend), h('div', { class: 'plot-wrap' }, plot, top, mid, span))

  return {
    el,
    update(history, current, slots, sampleInterval) {
      for (const { key } of SERIES) setText(values.get(key)!, fmtRate(current[key]))
      const max = niceMax(Math.max(1, ...history.flatMap((s) => [s.publish, s.deliver, s.ack, s.redeliver])))
      const width = 600
      const height = 160
      const grid = [0.25, 0.5, 0.75].map((f) =>
        svg('line', { class: 'grid', x1: 0, x2: width, y1: height * f, y2: height * f, 'vector-effect': 'non-scaling-stroke' }),
      )
      const chart = svg(
        'svg',
        { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${title}, last ${slots} samples` },
        grid,
        svg('line', { class: 'base', x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5, 'vector-effect': 'non-scaling-stroke' }),
        ...SERIES.map(({ key }) => series(history.map((s) => s[key]), slots, width, height, max, key, key === 'publish')),
      )
      plot.replaceChildren(chart)
      setText(top, `${fmtCount(max)}/s`)
      setText(mid, `${fmtRate(max / 2)}/s`)
      setText(span, `last ${Math.round((slots * sampleInterval) / 1000)} s`)
    },
  }
}

/** Ready and unacked messages over time, stacked. */
export function depthChart(title: string): ChartHandle & { updateDepth(history: readonly RateSample[], slots: number): void } {
  const plot = h('div', { class: 'plot' })
  const top = h('span', { class: 'axis top' })
  const readyValue = h('b', { 'data-depth': 'ready' }, '0')
  const unackedValue = h('b', { 'data-depth': 'unacked' }, '0')
  const el = h(
    'section',
    { class: 'chart card' },
    h('header', null, h('h3', null, title), h('div', { class: 'legend' },
      h('span', { class: 'key s-ready' }, h('i'), 'Ready ', readyValue),
      h('span', { class: 'key s-unacked' }, h('i'), 'Unacked ', unackedValue),
    )),
    h('div', { class: 'plot-wrap' }, plot, top),
  )
  const updateDepth = (history: readonly RateSample[], slots: number) => {
    const last = history.at(-1)
    setText(readyValue, fmtCount(last?.ready ?? 0))
    setText(unackedValue, fmtCount(last?.unacked ?? 0))
    const max = niceMax(Math.max(1, ...history.map((s) => s.ready + s.unacked)))
    const width = 600
    const height = 160
    plot.replaceChildren(
      svg(
        'svg',
        { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': title },
        [0.25, 0.5, 0.75].map((f) => svg('line', { class: 'grid', x1: 0, x2: width, y1: height * f, y2: height * f, 'vector-effect': 'non-scaling-stroke' })),
        series(history.map((s) => s.ready + s.unacked), slots, width, height, max, 'unacked', true),
        series(history.map((s) => s.ready), slots, width, height, max, 'ready', true),
      ),
    )
    setText(top, fmtCount(max))
  }
  return { el, update: (history, _current, slots) => updateDepth(history, slots), updateDepth }
}
