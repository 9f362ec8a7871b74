/** The top of the console: totals, and the message-rate and queue-depth charts of the whole vhost. */
import { OVERVIEW_HISTORY, type Overview } from '../protocol/management.js'
import { depthChart, rateChart } from './charts.js'
import type { View } from './context.js'
import { h, setText } from './dom.js'
import { fmtCount, fmtRate } from './format.js'

const CARDS = [
  { key: 'ready', label: 'Ready', get: (o: Overview) => fmtCount(o.totals.ready) },
  { key: 'unacked', label: 'Unacked', get: (o: Overview) => fmtCount(o.totals.unacked) },
  { key: 'messages', label: 'Total', get: (o: Overview) => fmtCount(o.totals.messages) },
  { key: 'publish', label: 'Publish', get: (o: Overview) => fmtRate(o.rates.publish), unit: '/s' },
  { key: 'deliver', label: 'Deliver', get: (o: Overview) => fmtRate(o.rates.deliver), unit: '/s' },
  { key: 'ack', label: 'Ack', get: (o: Overview) => fmtRate(o.rates.ack), unit: '/s' },
  { key: 'consumers', label: 'Consumers', get: (o: Overview) => fmtCount(o.totals.consumers) },
  { key: 'clients', label: 'Connections', get: (o: Overview) => fmtCount(o.totals.clients) },
] as const

export function overviewView(): View {
  const values = new Map<string, HTMLElement>()
  const stats = h('div', { class: 'stats' }, CARDS.map((card) => {
    const value = h('b', { 'data-total': card.key }, '0')
    values.set(card.key, value)
    return h('div', { class: `stat card s-${card.key}` }, h('span', null, card.label), h('div', null, value, 'unit' in card ? h('small', null, card.unit) : null))
  }))
  const rates = rateChart('Message rates')
  const depth = depthChart('Queued messages')
  const el = h('div', { class: 'overview', style: 'display: grid; gap: 10px' }, stats, h('div', { class: 'charts' }, rates.el, depth.el))
  return {
    el,
    update(overview) {
      for (const card of CARDS) setText(values.get(card.key)!, card.get(overview))
      rates.update(overview.history, overview.rates, OVERVIEW_HISTORY, overview.sampleInterval)
      depth.updateDepth(overview.history, OVERVIEW_HISTORY)
    },
  }
}
