/**
 * [remote] Remote brokers on the Connections tab: each RabbitMQ the broker host holds a socket
 * to (state, last error, in/out rates, outbox backlog) and each shovel and federation link.
 */
import type { Overview } from '../protocol/management.js'
import type { LinkStatus, RemoteStatus } from '../protocol/remote.js'
import { h, redraw } from './dom.js'
import { fmtCount, fmtRate } from './format.js'

const errorText = (e: { code: string; message: string } | undefined) => (e ? `${e.code}: ${e.message}` : '')

function linkRow(link: LinkStatus) {
  return h('tr', { 'data-link': link.name, 'data-state': link.state },
    h('td', { class: 'name' }, `${link.kind === 'shovel' ? '→' : '←'} ${link.name}`),
    h('td', null, link.kind),
    h('td', { class: 'mono' }, `${link.source} ⇒ ${link.destination}`),
    h('td', null, h('span', { class: `live ${link.state === 'running' ? 'held' : 'released'}` }, h('i'), link.state)),
    h('td', { class: 'num' }, fmtCount(link.moved)),
    h('td', { class: 'num' }, fmtCount(link.inFlight)),
    h('td', { class: 'num', 'data-backlog': link.backlog ?? '' }, link.backlog === undefined ? '—' : fmtCount(link.backlog)),
    h('td', { class: 'muted', title: errorText(link.lastError) }, link.lastError?.code ?? ''),
  )
}

function remoteRows(remote: RemoteStatus) {
  return [
    h('tr', { 'data-remote': remote.name, 'data-state': remote.state },
      h('td', { class: 'name' }, remote.name),
      h('td', null, 'remote'),
      h('td', { class: 'mono' }, `${remote.url} (vhost ${remote.vhost})`),
      h('td', null, h('span', { class: `live ${remote.state === 'open' ? 'held' : 'released'}` }, h('i'), remote.state)),
      h('td', { class: 'num' }, `${fmtRate(remote.outRate)}/s out`),
      h('td', { class: 'num' }, `${fmtRate(remote.inRate)}/s in`),
      h('td', { class: 'num' }, fmtCount(remote.links.reduce((n, l) => n + (l.backlog ?? 0), 0))),
      h('td', { class: 'muted', title: errorText(remote.lastError), 'data-error': remote.lastError?.code ?? '' }, remote.lastError?.code ?? ''),
    ),
    ...remote.links.map(linkRow),
  ]
}

export function remotesView(): { el: HTMLElement; update(overview: Overview): void } {
  const body = h('tbody')
  const table = h('table', { 'data-testid': 'remotes' },
    h('thead', null, h('tr', null,
      h('th', null, 'Remote / link'), h('th', null, 'Kind'), h('th', null, 'Where'), h('th', null, 'State'),
      h('th', { class: 'num' }, 'Moved / out'), h('th', { class: 'num' }, 'In flight / in'), h('th', { class: 'num' }, 'Outbox'), h('th', null, 'Last error'),
    )),
    body,
  )
  const el = h('div', { class: 'card table-wrap', style: 'margin-top: 10px' }, h('h3', null, 'Remote brokers'), table)
  el.hidden = true
  return {
    el,
    update(overview) {
      const remotes = overview.remotes ?? []
      el.hidden = remotes.length === 0
      redraw(body, remotes, () => remotes.flatMap(remoteRows))
    },
  }
}
