/** Exchanges: type, features and bindings, with a pane to bind, unbind, publish and delete. */
import type { BindingOverview, ExchangeOverview, Overview } from '../protocol/management.js'
import type { ConsoleContext, View } from './context.js'
import { Keyed, h, redraw, replace, setText } from './dom.js'
import { ExpandableRows, type ExpandableItem } from './expandable-rows.js'
import { formSwitcher, revealButton } from './form-toggles.js'
import { EXCHANGE_ARGUMENT_HINTS, argumentsField, check, confirmButton, field, publishForm, readArguments } from './forms.js'
import { exchangeLabel, fmtValue } from './format.js'

const builtIn = (name: string) => name === '' || name.startsWith('amq.')

interface ExchangeItem extends ExpandableItem<ReturnType<typeof exchangePane>> {
  nameCell: HTMLTableCellElement
  typeCell: HTMLTableCellElement
  featureCell: HTMLTableCellElement
  bindingCell: HTMLTableCellElement
}

export function exchangesView(ctx: ConsoleContext): View {
  const search = h('input', { type: 'search', placeholder: 'Filter exchanges', 'aria-label': 'Filter exchanges' })
  const showBuiltIn = h('input', { type: 'checkbox', checked: true })
  const addForm = declareExchangeForm(ctx)
  const addButton = revealButton(addForm, 'add-exchange', '+ Add exchange')
  const table = h('table', { 'data-testid': 'exchanges' },
    h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Type'), h('th', null, 'Features'), h('th', null, 'Bindings'))),
  )
  const refreshView = () => {
    const overview = ctx.overview()
    if (overview) view.update(overview)
  }
  search.addEventListener('input', refreshView)
  showBuiltIn.addEventListener('change', refreshView)
  const rows = new ExpandableRows(refreshView)

  const keyed = new Keyed<ExchangeOverview, ExchangeItem>(
    table,
    (exchange) => exchange.name,
    (exchange) => {
      const nameCell = h('td', { class: 'name' })
      const typeCell = h('td')
      const featureCell = h('td')
      const bindingCell = h('td', { class: 'muted', style: 'white-space: normal' })
      const { body, detailRow } = rows.item(exchange.name, { 'data-exchange': exchange.name }, [nameCell, typeCell, featureCell, bindingCell], 4)
      return Object.assign(body, { nameCell, typeCell, featureCell, bindingCell, detailRow }) as ExchangeItem
    },
    (item, exchange) => {
      redraw(item.nameCell, exchange.name, () => [h('span', { class: 'caret' }, '▸'), exchangeLabel(exchange.name)])
      redraw(item.typeCell, exchange.type, () => h('span', { class: 'badge type' }, exchange.type))
      redraw(item.featureCell, [exchange.durable, exchange.autoDelete, exchange.internal, exchange.arguments], () => [
        exchange.durable ? h('span', { class: 'badge durable', title: 'durable' }, 'D') : null,
        exchange.autoDelete ? h('span', { class: 'badge', title: 'auto-delete' }, 'AD') : null,
        exchange.internal ? h('span', { class: 'badge', title: 'internal' }, 'I') : null,
        exchange.arguments['alternate-exchange'] !== undefined ? h('span', { class: 'badge', title: `alternate exchange ${String(exchange.arguments['alternate-exchange'])}` }, 'AE') : null,
      ])
      setText(item.bindingCell, bindingSummary(exchange))
      rows.showDetail(item, exchange.name, () => exchangePane(ctx, exchange.name), exchange, ctx.overview()!)
    },
    1,
  )

  const el = h('div', { class: 'view' },
    h('div', { class: 'toolbar' }, search, check('Built-in', showBuiltIn), h('span', { class: 'spacer' }), addButton),
    addForm,
    h('div', { class: 'card table-wrap' }, table),
  )
  const view: View = {
    el,
    update(overview) {
      const filter = search.value.trim().toLowerCase()
      keyed.render(overview.exchanges.filter((e) =>
        (showBuiltIn.checked || !builtIn(e.name)) && (!filter || exchangeLabel(e.name).toLowerCase().includes(filter))))
    },
  }
  return view
}

function bindingSummary(exchange: ExchangeOverview): string {
  if (exchange.name === '') return 'every queue, by name'
  const n = exchange.bindings.length
  if (n === 0) return '—'
  const names = exchange.bindings.slice(0, 3).map((b) => (exchange.type === 'fanout' || b.routingKey === '' ? b.destination : `${b.routingKey} → ${b.destination}`))
  return `${names.join(', ')}${n > 3 ? ` +${n - 3}` : ''}`
}

function exchangePane(ctx: ConsoleContext, name: string) {
  const facts = h('div', { class: 'facts' })
  const bindings = h('div')
  const { form, button } = formSwitcher()
  const actions = h('div', { class: 'actions' },
    name === '' ? null : button('bind', 'exchange-bind', 'Add binding', () => bindForm(ctx, name)),
    button('publish', 'exchange-publish', 'Publish', () => publishForm(ctx, { exchange: name })),
    builtIn(name) ? null : confirmButton('Delete', 'Sure? Delete', () => ctx.act((m) => m.deleteExchange(name), () => `Deleted exchange '${name}'`), 'exchange-delete'),
  )
  const el = h('div', { class: 'pane', 'data-testid': 'exchange-pane' }, facts, bindings, actions, form)
  return {
    el,
    update(exchange: ExchangeOverview, _overview: Overview) {
      const args = Object.entries(exchange.arguments)
      redraw(facts, [exchange.type, exchange.durable, exchange.autoDelete, exchange.internal, exchange.arguments], () => [
        h('span', null, 'Type ', h('b', null, exchange.type)),
        h('span', null, 'Durable ', h('b', null, exchange.durable ? 'yes' : 'no')),
        h('span', null, 'Auto-delete ', h('b', null, exchange.autoDelete ? 'yes' : 'no')),
        h('span', null, 'Internal ', h('b', null, exchange.internal ? 'yes' : 'no')),
        args.length > 0 ? h('span', null, 'Arguments ', h('code', null, args.map(([k, v]) => `${k}=${fmtValue(v)}`).join('  '))) : null,
      ])
      if (exchange.name === '') {
        redraw(bindings, 'default', () => h('div', { class: 'hint' }, 'The default exchange routes to the queue named by the routing key; it cannot be bound.'))
        return
      }
      redraw(bindings, exchange.bindings, () => [h('h4', null, `Bindings (${exchange.bindings.length})`), exchange.bindings.length === 0
        ? h('div', { class: 'hint' }, 'Nothing is bound: messages published here go nowhere (unless an alternate exchange takes them).')
        : h('table', { class: 'subtable' },
            h('thead', null, h('tr', null, h('th', null, 'To'), h('th', null, 'Routing key'), h('th', null, 'Arguments'), h('th', null, ''))),
            h('tbody', null, exchange.bindings.map((b) => h('tr', { 'data-binding': `${b.destination}:${b.routingKey}` },
              h('td', null, h('b', null, b.destination), h('span', { class: 'badge' }, b.destinationKind)),
              h('td', { class: 'mono' }, b.routingKey || '""'),
              h('td', { class: 'mono muted' }, Object.keys(b.arguments).length ? fmtValue(b.arguments) : ''),
              h('td', { class: 'num' }, h('button', { type: 'button', class: 'btn small', 'data-testid': 'unbind', onClick: () => unbind(ctx, b) }, 'Unbind')),
            ))),
          )])
    },
  }
}

function unbind(ctx: ConsoleContext, binding: BindingOverview): void {
  void ctx.act((m) => m.deleteBinding(binding), () => `Unbound ${binding.destination} from ${exchangeLabel(binding.source)}`)
}

function bindForm(ctx: ConsoleContext, source: string): HTMLFormElement {
  const overview = ctx.overview()
  const listId = `wc-destinations-${Math.random().toString(36).slice(2, 8)}`
  const kind = h('select', { 'data-testid': 'bind-kind' }, h('option', { value: 'queue' }, 'queue'), h('option', { value: 'exchange' }, 'exchange'))
  const destination = h('input', { required: true, list: listId, placeholder: 'queue name', 'data-testid': 'bind-destination' })
  const list = h('datalist', { id: listId })
  const fill = () => replace(list, (kind.value === 'queue' ? overview?.queues ?? [] : (overview?.exchanges ?? []).filter((e) => e.name !== '' && e.name !== source)).map((x) => h('option', { value: x.name })))
  kind.addEventListener('change', fill)
  fill()
  const routingKey = h('input', { placeholder: 'e.g. room.*', 'data-testid': 'bind-routing-key' })
  const args = argumentsField([['x-match', '"all"']])
  return h('form', {
    class: 'form',
    'data-testid': 'bind-form',
    onSubmit: async (event: Event) => {
      event.preventDefault()
      const table = readArguments(ctx, args)
      if (!table) return
      const spec = { source, destination: destination.value.trim(), destinationKind: kind.value as 'queue' | 'exchange', routingKey: routingKey.value, arguments: table }
      await ctx.act((m) => m.declareBinding(spec), () => `Bound ${spec.destination} to ${source}${spec.routingKey ? ` with key '${spec.routingKey}'` : ''}`)
    },
  },
    field('Destination kind', kind), field('Destination', h('span', null, destination, list)), field('Routing key', routingKey),
    args.el,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'bind-submit' }, 'Bind')),
  )
}

function declareExchangeForm(ctx: ConsoleContext): HTMLFormElement {
  const name = h('input', { required: true, placeholder: 'e.g. chat', 'data-testid': 'exchange-name' })
  const type = h('select', { 'data-testid': 'exchange-type' }, ['direct', 'fanout', 'topic', 'headers'].map((t) => h('option', { value: t }, t)))
  const durable = h('input', { type: 'checkbox', checked: true })
  const autoDelete = h('input', { type: 'checkbox' })
  const internal = h('input', { type: 'checkbox' })
  const args = argumentsField(EXCHANGE_ARGUMENT_HINTS)
  return h('form', {
    class: 'form',
    'data-testid': 'declare-exchange',
    style: 'margin-bottom: 10px',
    onSubmit: async (event: Event) => {
      event.preventDefault()
      const table = readArguments(ctx, args)
      if (!table) return
      const spec = { name: name.value.trim(), type: type.value, durable: durable.checked, autoDelete: autoDelete.checked, internal: internal.checked, arguments: table }
      const done = await ctx.act((m) => m.declareExchange(spec), () => `Declared ${spec.type} exchange '${spec.name}'`)
      if (done !== undefined) name.value = ''
    },
  },
    field('Name', name), field('Type', type),
    h('div', { class: 'row' }, check('Durable', durable), check('Auto-delete', autoDelete), check('Internal', internal)),
    args.el,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'exchange-declare-submit' }, 'Declare exchange')),
  )
}
