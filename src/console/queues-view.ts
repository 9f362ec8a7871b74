/** Queues: counts, consumers and rates per queue, with a detail pane to inspect and act. */
import { QUEUE_HISTORY, type Overview, type QueueOverview, type StreamOverview } from '../protocol/management.js'
import { sparkline } from './charts.js'
import type { ConsoleContext, View } from './context.js'
import { Keyed, h, redraw, replace } from './dom.js'
import { ExpandableRows, type ExpandableItem } from './expandable-rows.js'
import { formSwitcher, revealButton } from './form-toggles.js'
import { argumentsField, check, confirmButton, field, getForm, moveForm, publishForm, readArguments } from './forms.js'
import { exchangeLabel, fmtCount, fmtRate, fmtValue, shortId } from './format.js'

const COLUMNS = ['ready', 'unacked', 'total', 'consumers', 'publish', 'deliver', 'ack'] as const

function badges(queue: QueueOverview): HTMLElement[] {
  const out: HTMLElement[] = []
  const args = queue.arguments
  // Classic is the default and goes unmarked, as in RabbitMQ's management UI.
  const title = queue.stream ? `stream queue: ${streamFacts(queue.stream)}` : `${queue.type} queue`
  if (queue.type !== 'classic') out.push(h('span', { class: 'badge type', title, 'data-queue-type': queue.type }, queue.type))
  if (queue.durable) out.push(h('span', { class: 'badge durable', title: 'durable' }, 'D'))
  if (queue.autoDelete) out.push(h('span', { class: 'badge', title: 'auto-delete' }, 'AD'))
  if (queue.exclusive) out.push(h('span', { class: 'badge', title: 'exclusive' }, 'Excl'))
  if (args['x-dead-letter-exchange'] !== undefined) out.push(h('span', { class: 'badge dlx', title: `dead-letters to ${exchangeLabel(String(args['x-dead-letter-exchange']))}` }, 'DLX'))
  if (args['x-message-ttl'] !== undefined) out.push(h('span', { class: 'badge', title: `message TTL ${args['x-message-ttl']} ms` }, 'TTL'))
  if (args['x-max-length'] !== undefined || args['x-max-length-bytes'] !== undefined) out.push(h('span', { class: 'badge', title: 'length limit' }, 'Lim'))
  if (args['x-max-priority'] !== undefined) out.push(h('span', { class: 'badge', title: `priorities up to ${args['x-max-priority']}` }, 'Pri'))
  if (args['x-single-active-consumer'] === true) out.push(h('span', { class: 'badge', title: 'single active consumer' }, 'SAC'))
  return out
}

const streamFacts = ({ firstOffset, lastOffset, segments }: StreamOverview): string =>
  `${lastOffset === null ? 'empty, next offset ' + firstOffset : `offsets ${fmtCount(firstOffset)}–${fmtCount(lastOffset)}`} in ${fmtCount(segments)} segment${segments === 1 ? '' : 's'}`

const num = (n: number, text = fmtCount(n)) => (n === 0 ? h('span', { class: 'zero' }, '0') : text)

interface QueueItem extends ExpandableItem<ReturnType<typeof queuePane>> {
  cells: Record<string, HTMLTableCellElement>
  nameCell: HTMLTableCellElement
  trend: HTMLTableCellElement
}

export function queuesView(ctx: ConsoleContext): View {
  const search = h('input', { type: 'search', placeholder: 'Filter queues', 'aria-label': 'Filter queues' })
  const addForm = declareQueueForm(ctx)
  const addButton = revealButton(addForm, 'add-queue', '+ Add queue')
  const table = h('table', { 'data-testid': 'queues' },
    h('thead', null, h('tr', null,
      h('th', null, 'Name'), h('th', { class: 'num' }, 'Ready'), h('th', { class: 'num' }, 'Unacked'), h('th', { class: 'num' }, 'Total'),
      h('th', { class: 'num' }, 'Consumers'), h('th', { class: 'num' }, 'In/s'), h('th', { class: 'num' }, 'Out/s'), h('th', { class: 'num' }, 'Ack/s'),
      h('th', null, 'Last 30 s'),
    )),
  )
  const empty = h('div', { class: 'empty' }, h('b', null, 'No queues yet'), 'Declare one here, or open the demo app and it will declare its own.')
  const refreshView = () => {
    const overview = ctx.overview()
    if (overview) view.update(overview)
  }
  search.addEventListener('input', refreshView)
  const rows = new ExpandableRows(refreshView)

  const keyed = new Keyed<QueueOverview, QueueItem>(
    table,
    (queue) => queue.name,
    (queue) => {
      const cells = Object.fromEntries(COLUMNS.map((c) => [c, h('td', { class: 'num', 'data-col': c })])) as Record<string, HTMLTableCellElement>
      const nameCell = h('td', { class: 'name' })
      const trend = h('td')
      const { body, detailRow } = rows.item(queue.name, { 'data-queue': queue.name }, [nameCell, COLUMNS.map((c) => cells[c]!), trend], 9)
      return Object.assign(body, { cells, nameCell, trend, detailRow }) as QueueItem
    },
    (item, queue) => {
      // Exclusive queues have server-made names: say whose they are.
      const owner = queue.exclusive ? queue.consumers[0]?.clientName : undefined
      redraw(item.nameCell, [queue.name, queue.durable, queue.autoDelete, queue.exclusive, queue.arguments, owner ?? ''], () => [
        h('span', { class: 'caret' }, '▸'), queue.name, badges(queue), owner ? h('span', { class: 'owner' }, owner) : null,
      ])
      item.nameCell.title = queue.name
      const values: Record<(typeof COLUMNS)[number], HTMLElement | string> = {
        ready: num(queue.ready) as HTMLElement | string,
        unacked: num(queue.unacked),
        total: num(queue.total),
        consumers: num(queue.consumers.length),
        publish: num(queue.rates.publish, fmtRate(queue.rates.publish)),
        deliver: num(queue.rates.deliver, fmtRate(queue.rates.deliver)),
        ack: num(queue.rates.ack, fmtRate(queue.rates.ack)),
      }
      for (const c of COLUMNS) {
        const value = values[c]
        const text = typeof value === 'string' ? value : value.textContent ?? ''
        if (item.cells[c]!.textContent !== text) replace(item.cells[c]!, value)
      }
      item.trend.replaceChildren(sparkline(queue.history, QUEUE_HISTORY))
      rows.showDetail(item, queue.name, () => queuePane(ctx, queue.name), queue, ctx.overview()!)
    },
    1,
  )

  const el = h('div', { class: 'view' },
    h('div', { class: 'toolbar' }, search, h('span', { class: 'spacer' }), addButton),
    addForm,
    h('div', { class: 'card table-wrap' }, table, empty),
  )
  const view: View = {
    el,
    update(overview) {
      const filter = search.value.trim().toLowerCase()
      // Named queues first; the server-named ones (a tab's private queues) after them.
      const queues = overview.queues
        .filter((q) => !filter || q.name.toLowerCase().includes(filter))
        .sort((x, y) => Number(x.name.startsWith('amq.gen-')) - Number(y.name.startsWith('amq.gen-')) || x.name.localeCompare(y.name))
      keyed.render(queues)
      empty.hidden = queues.length > 0
    },
  }
  return view
}

function queuePane(ctx: ConsoleContext, name: string) {
  const facts = h('div', { class: 'facts' })
  const consumers = h('div')
  const bindings = h('div')
  const { form, button } = formSwitcher()
  const actions = h('div', { class: 'actions' },
    button('get', 'queue-get', 'Get messages', () => getForm(ctx, name)),
    button('publish', 'queue-publish', 'Publish', () => publishForm(ctx, { exchange: '', routingKey: name })),
    button('move', 'queue-move', 'Move messages', () => moveForm(ctx, name)),
    confirmButton('Purge', 'Sure? Purge', () => ctx.act((m) => m.purge(name), ({ messageCount }) => `Purged ${fmtCount(messageCount)} message${messageCount === 1 ? '' : 's'} from '${name}'`), 'queue-purge'),
    confirmButton('Delete', 'Sure? Delete', () => ctx.act((m) => m.deleteQueue(name), ({ messageCount }) => `Deleted queue '${name}' (${fmtCount(messageCount)} message${messageCount === 1 ? '' : 's'} dropped)`), 'queue-delete'),
  )
  const el = h('div', { class: 'pane', 'data-testid': 'queue-pane' }, facts, consumers, bindings, actions, form)
  return {
    el,
    update(queue: QueueOverview, overview: Overview) {
      const args = Object.entries(queue.arguments)
      const details = Object.entries(queue.typeDetails)
      redraw(facts, [queue.counters, queue.arguments, queue.typeDetails], () => [
        h('span', null, 'Type ', h('b', { 'data-testid': 'queue-type' }, queue.type)),
        ...(queue.stream
          ? [h('span', { 'data-testid': 'stream-facts' }, 'Log ', h('b', null, streamFacts(queue.stream)))]
          : details.map(([key, value]) => h('span', null, `${key} `, h('b', null, fmtValue(value))))),
        h('span', null, 'Durable ', h('b', null, queue.durable ? 'yes' : 'no')),
        h('span', null, 'Auto-delete ', h('b', null, queue.autoDelete ? 'yes' : 'no')),
        h('span', null, 'Exclusive ', h('b', null, queue.exclusive ? 'yes' : 'no')),
        h('span', null, 'Published ', h('b', null, fmtCount(queue.counters.published))),
        h('span', null, 'Delivered ', h('b', null, fmtCount(queue.counters.delivered))),
        h('span', null, 'Acked ', h('b', null, fmtCount(queue.counters.acked))),
        h('span', null, 'Redelivered ', h('b', null, fmtCount(queue.counters.redelivered))),
        h('span', null, 'Dead-lettered ', h('b', null, fmtCount(queue.counters.deadLettered))),
        h('span', null, 'Expired ', h('b', null, fmtCount(queue.counters.expired))),
        args.length > 0 ? h('span', null, 'Arguments ', h('code', null, args.map(([k, v]) => `${k}=${fmtValue(v)}`).join('  '))) : null,
      ])
      redraw(consumers, queue.consumers, () => [h('h4', null, `Consumers (${queue.consumers.length})`), queue.consumers.length === 0
        ? h('div', { class: 'hint' }, 'Nobody consumes this queue.')
        : h('table', { class: 'subtable' },
            h('thead', null, h('tr', null, h('th', null, 'Client'), h('th', null, 'Kind'), h('th', null, 'Tag'), h('th', { class: 'num' }, 'Prefetch'), h('th', { class: 'num' }, 'Unacked'), h('th', null, 'State'))),
            h('tbody', null, queue.consumers.map((c) => h('tr', { 'data-consumer': c.tag },
              h('td', { title: c.clientId }, c.clientName ?? shortId(c.clientId)),
              h('td', null, h('span', { class: `kind ${c.clientKind}` }, h('i'), c.clientKind)),
              h('td', { class: 'mono' }, c.tag),
              h('td', { class: 'num' }, c.noAck ? 'no-ack' : c.prefetch === 0 ? '∞' : String(c.prefetch)),
              h('td', { class: 'num' }, String(c.unacked)),
              h('td', null, c.active ? 'active' : h('span', { class: 'muted' }, 'waiting')),
            ))),
          )])
      const incoming = overview.exchanges.flatMap((e) => e.bindings.filter((b) => b.destinationKind === 'queue' && b.destination === queue.name))
      redraw(bindings, incoming, () => [h('h4', null, `Bindings (${incoming.length + 1})`), h('div', { class: 'facts' },
        h('span', null, h('b', null, '(AMQP default)'), ' key ', h('code', null, queue.name)),
        incoming.map((b) => h('span', null, h('b', null, b.source), ' key ', h('code', null, b.routingKey || '""'))),
      )])
    },
  }
}

function declareQueueForm(ctx: ConsoleContext): HTMLFormElement {
  const name = h('input', { name: 'name', required: true, placeholder: 'e.g. image-jobs', 'data-testid': 'queue-name' })
  const durable = h('input', { type: 'checkbox', checked: true })
  const autoDelete = h('input', { type: 'checkbox' })
  const type = h('select', { 'data-testid': 'queue-type-select' }, ...['classic', 'quorum', 'stream'].map((t) => h('option', { value: t }, t)))
  const args = argumentsField()
  return h('form', {
    class: 'form',
    'data-testid': 'declare-queue',
    style: 'margin-bottom: 10px',
    onSubmit: async (event: Event) => {
      event.preventDefault()
      const table = readArguments(ctx, args)
      if (!table) return
      // x-queue-type from the select unless the arguments name one themselves.
      const typed = type.value === 'classic' || table['x-queue-type'] !== undefined ? table : { ...table, 'x-queue-type': type.value }
      const spec = { name: name.value.trim(), durable: durable.checked, autoDelete: autoDelete.checked, arguments: typed }
      const done = await ctx.act((m) => m.declareQueue(spec), ({ queue }) => `Declared queue '${queue}'`)
      if (done) name.value = ''
    },
  },
    field('Name', name),
    field('Type', type),
    h('div', { class: 'row' }, check('Durable', durable), check('Auto-delete', autoDelete)),
    args.el,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'queue-declare-submit' }, 'Declare queue')),
  )
}
