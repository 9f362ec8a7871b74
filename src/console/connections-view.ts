/** Connections: every client of the broker, what kind of context it runs in, and whether its lock says it lives. */
import type { ClientOverview, Liveness, Overview } from '../protocol/management.js'
import type { ConsoleContext, View } from './context.js'
import { Keyed, h, redraw, setText } from './dom.js'
import { fmtAge, fmtCount, shortId } from './format.js'
import { remotesView } from './remotes-view.js'

const LIVENESS: Record<Liveness, [string, string]> = {
  held: ['lock held', 'The client holds its Web Lock: it is alive.'],
  released: ['lock free', 'The lock is free: the client is gone and the broker is about to drop it.'],
  unknown: ['—', 'This host cannot query Web Locks.'],
}

export function connectionsView(_ctx: ConsoleContext): View {
  const table = h('table', { 'data-testid': 'connections' },
    h('thead', null, h('tr', null,
      h('th', null, 'Client'), h('th', null, 'Kind'), h('th', { class: 'num' }, 'Channels'), h('th', { class: 'num' }, 'Consumers'),
      h('th', { class: 'num' }, 'Unacked'), h('th', null, 'Connected'), h('th', null, 'Liveness'),
    )),
  )
  const empty = h('div', { class: 'empty' }, h('b', null, 'No clients'), 'Tabs, iframes and workers that open a connection show up here.')
  let now = 0
  const keyed = new Keyed<ClientOverview, HTMLTableSectionElement>(
    table,
    (client) => client.id,
    (client) => h('tbody', { class: 'item', 'data-client': client.id }, h('tr', null, h('td', { class: 'name', title: client.id }), h('td'), h('td', { class: 'num' }), h('td', { class: 'num' }), h('td', { class: 'num' }), h('td', { class: 'muted' }), h('td'))),
    (item, client) => {
      const [label, title] = LIVENESS[client.liveness]
      const [name, kind, channels, consumers, unacked, age, live] = [...item.firstElementChild!.children] as HTMLTableCellElement[]
      redraw(name!, [client.name, client.id], () => client.name ? [client.name, ' ', h('span', { class: 'muted mono', style: 'font-weight: 400' }, shortId(client.id))] : shortId(client.id))
      redraw(kind!, client.kind, () => h('span', { class: `kind ${client.kind}`, 'data-kind': client.kind }, h('i'), client.kind))
      setText(channels!, fmtCount(client.channels))
      setText(consumers!, fmtCount(client.consumers))
      setText(unacked!, fmtCount(client.unacked))
      setText(age!, `${fmtAge(now - client.connectedAt)} ago`)
      redraw(live!, client.liveness, () => h('span', { class: `live ${client.liveness}`, title }, h('i'), label))
    },
    1,
  )
  const remotes = remotesView() // [remote]
  const el = h('div', { class: 'view' }, h('div', { class: 'card table-wrap', style: 'margin-top: 10px' }, table, empty), remotes.el)
  return {
    el,
    update(overview: Overview) {
      now = overview.now
      keyed.render(overview.clients)
      empty.hidden = overview.clients.length > 0
      remotes.update(overview)
    },
  }
}
