/** Forms the views share: publish, get messages, move messages, declare, bind; and an inline confirm. */
import type { FieldTable, MessageProperties } from '../protocol/frames.js'
import type { AckMode, Overview, PeekedMessage } from '../protocol/management.js'
import type { ConsoleContext } from './context.js'
import { h, replace } from './dom.js'
import { exchangeLabel, fmtBody, fmtCount, fmtValue, parseTable } from './format.js'

let fieldSeq = 0
const uid = (name: string) => `wc-${name}-${++fieldSeq}`

export function field(label: string, control: HTMLElement, cls = ''): HTMLLabelElement {
  return h('label', { class: `field ${cls}` }, label, control)
}

export function check(label: string, input: HTMLInputElement): HTMLLabelElement {
  return h('label', { class: 'check' }, input, label)
}

/** A button that asks once more inline ("Sure? Purge") before it acts: no modal dialogs. */
export function confirmButton(label: string, confirmLabel: string, action: () => Promise<unknown> | void, testid?: string): HTMLButtonElement {
  let armed: ReturnType<typeof setTimeout> | undefined
  const button = h('button', {
    type: 'button',
    class: 'btn danger',
    'data-testid': testid,
    onClick: async () => {
      if (armed === undefined) {
        button.textContent = confirmLabel
        button.setAttribute('aria-pressed', 'true')
        armed = setTimeout(disarm, 4000)
        return
      }
      disarm()
      button.disabled = true
      try {
        await action()
      } finally {
        button.disabled = false
      }
    },
  }, label)
  const disarm = () => {
    clearTimeout(armed)
    armed = undefined
    button.textContent = label
    button.removeAttribute('aria-pressed')
  }
  return button
}

function tableOrThrow(text: string, what: string): FieldTable {
  try {
    return parseTable(text)
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`)
  }
}

// ---------------------------------------------------------------- publish

export interface PublishTarget {
  exchange: string
  /** Fixed routing key (publishing to a queue through the default exchange). */
  routingKey?: string
}

export function publishForm(ctx: ConsoleContext, target: PublishTarget): HTMLFormElement {
  const routingKey = h('input', { name: 'routingKey', placeholder: 'e.g. room.lobby', value: target.routingKey ?? '', 'data-testid': 'publish-routing-key' })
  if (target.routingKey !== undefined) routingKey.readOnly = true
  const contentType = h('select', { name: 'contentType', 'data-testid': 'publish-content-type' },
    h('option', { value: 'application/json' }, 'application/json'),
    h('option', { value: 'text/plain' }, 'text/plain'),
    h('option', { value: '' }, '(none)'),
  )
  const persistent = h('input', { type: 'checkbox', name: 'persistent', checked: true })
  const mandatory = h('input', { type: 'checkbox', name: 'mandatory' })
  const headers = h('textarea', { name: 'headers', rows: 2, placeholder: 'x-user: alice\nretries: 3', 'data-testid': 'publish-headers' })
  const messageId = h('input', { name: 'messageId' })
  const correlationId = h('input', { name: 'correlationId' })
  const replyTo = h('input', { name: 'replyTo' })
  const expiration = h('input', { name: 'expiration', placeholder: 'ms' })
  const priority = h('input', { name: 'priority', type: 'number', min: 0, max: 255 })
  const type = h('input', { name: 'type' })
  const payload = h('textarea', { name: 'payload', rows: 4, placeholder: '{"hello": "warren"}', 'data-testid': 'publish-payload' })

  const form = h('form', {
    class: 'form',
    'data-testid': 'publish-form',
    onSubmit: async (event: Event) => {
      event.preventDefault()
      let properties: MessageProperties
      let headerTable: FieldTable
      try {
        headerTable = tableOrThrow(headers.value, 'headers')
        if (contentType.value === 'application/json' && payload.value.trim() !== '') JSON.parse(payload.value)
        properties = {
          deliveryMode: persistent.checked ? 2 : 1,
          ...(contentType.value ? { contentType: contentType.value, contentEncoding: 'utf-8' } : {}),
          ...(messageId.value ? { messageId: messageId.value } : {}),
          ...(correlationId.value ? { correlationId: correlationId.value } : {}),
          ...(replyTo.value ? { replyTo: replyTo.value } : {}),
          ...(expiration.value ? { expiration: expiration.value } : {}),
          ...(priority.value ? { priority: Number(priority.value) } : {}),
          ...(type.value ? { type: type.value } : {}),
          timestamp: Math.floor(Date.now() / 1000),
        }
      } catch (error) {
        ctx.notify(error instanceof SyntaxError ? `The payload is not valid JSON: ${error.message}` : (error as Error).message, 'error')
        return
      }
      const key = routingKey.value
      await ctx.act(
        (m) => m.publish({ exchange: target.exchange, routingKey: key, properties, headers: headerTable, body: payload.value, mandatory: mandatory.checked }),
        ({ routed }) =>
          routed
            ? `Published to ${exchangeLabel(target.exchange)}${key ? ` with key '${key}'` : ''}`
            : `Published to ${exchangeLabel(target.exchange)}, but no queue was bound for key '${key}' (not routed)`,
      )
    },
  },
    field('Routing key', routingKey),
    field('Content type', contentType),
    h('div', { class: 'row' }, check('Persistent', persistent), check('Mandatory', mandatory)),
    field('Headers (key: value per line)', headers, 'wide'),
    h('details', { class: 'wide' },
      h('summary', { class: 'hint' }, 'More properties'),
      h('div', { class: 'form', style: 'border: none; padding: 8px 0 0' },
        field('Message id', messageId), field('Correlation id', correlationId), field('Reply to', replyTo),
        field('Expiration', expiration), field('Priority', priority), field('Type', type),
      ),
    ),
    field('Payload', payload, 'wide'),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'publish-submit' }, 'Publish message')),
  )
  return form
}

// ---------------------------------------------------------------- get messages

export function messageCard(message: PeekedMessage, index: number): HTMLElement {
  const { properties } = message
  const body = fmtBody(message.body, properties.contentType, properties.contentEncoding)
  const { headers, ...rest } = properties
  const props = Object.entries(rest).filter(([, v]) => v !== undefined)
  return h('article', { class: 'message', 'data-testid': 'message' },
    h('header', null,
      h('span', null, '#', h('b', null, String(index + 1))),
      h('span', null, 'exchange ', h('b', null, exchangeLabel(message.exchange))),
      h('span', null, 'routing key ', h('b', { class: 'mono' }, message.routingKey || '""')),
      message.redelivered ? h('span', { class: 'redelivered' }, 'redelivered') : null,
      h('span', null, body.kind),
      h('span', null, fmtCount(message.messageCount), ' left'),
    ),
    h('pre', { 'data-testid': 'message-body' }, body.text),
    props.length > 0 || headers ? h('div', { class: 'props' },
      props.map(([k, v]) => `${k}: ${fmtValue(v)}`).join('   '),
      headers && Object.keys(headers).length > 0 ? `\nheaders: ${fmtValue(headers, 2)}` : '',
    ) : null,
  )
}

export function getForm(ctx: ConsoleContext, queue: string): HTMLElement {
  const count = h('input', { type: 'number', min: 1, max: 1000, value: '1', 'data-testid': 'get-count' })
  const mode = h('select', { 'data-testid': 'get-mode' },
    h('option', { value: 'requeue' }, 'Nack, requeue (peek)'),
    h('option', { value: 'ack' }, 'Ack, remove from queue'),
  )
  const results = h('div', { class: 'messages wide', 'data-testid': 'get-results' })
  const form = h('form', {
    class: 'form',
    'data-testid': 'get-form',
    onSubmit: async (event: Event) => {
      event.preventDefault()
      const ackMode = mode.value as AckMode
      const taken = await ctx.act(
        (m) => m.getMessages(queue, Number(count.value) || 1, { ackMode }),
        (messages) => messages.length === 0 ? `Queue '${queue}' is empty` : `Got ${messages.length} message${messages.length === 1 ? '' : 's'} (${ackMode === 'ack' ? 'acked and removed' : 'requeued'})`,
      )
      if (taken) replace(results, taken.length === 0 ? h('div', { class: 'hint' }, 'No messages ready.') : taken.map(messageCard))
    },
  },
    field('Messages', count),
    field('Ack mode', mode),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'get-submit' }, 'Get messages')),
    results,
  )
  return form
}

// ---------------------------------------------------------------- move messages

/** Queues that dead-letter into `queue`: their DLX has a binding to it. The likely way back. */
export function deadLetterSources(overview: Overview, queue: string): string[] {
  const into = new Set(
    overview.exchanges.filter((e) => e.bindings.some((b) => b.destinationKind === 'queue' && b.destination === queue)).map((e) => e.name),
  )
  return overview.queues.filter((q) => typeof q.arguments['x-dead-letter-exchange'] === 'string' && into.has(q.arguments['x-dead-letter-exchange'] as string)).map((q) => q.name)
}

export function moveForm(ctx: ConsoleContext, queue: string): HTMLElement {
  const overview = ctx.overview()
  const others = (overview?.queues ?? []).map((q) => q.name).filter((name) => name !== queue)
  const sources = overview ? deadLetterSources(overview, queue) : []
  const destination = h('select', { 'data-testid': 'move-destination' },
    others.map((name) => h('option', { value: name, selected: name === sources[0] }, sources.includes(name) ? `${name} (dead-letters into this queue)` : name)),
  )
  return h('form', {
    class: 'form',
    'data-testid': 'move-form',
    onSubmit: async (event: Event) => {
      event.preventDefault()
      const to = destination.value
      if (!to) return
      await ctx.act((m) => m.moveMessages(queue, to), ({ moved }) => `Moved ${fmtCount(moved)} message${moved === 1 ? '' : 's'} from '${queue}' to '${to}'`)
    },
  },
    field('Move all ready messages to', destination, 'wide'),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'btn primary', disabled: others.length === 0, 'data-testid': 'move-submit' }, 'Move messages'),
      h('span', { class: 'hint' }, 'Each message is republished to the destination and acked here only after its confirm.'),
    ),
  )
}

// ---------------------------------------------------------------- arguments

const ARGUMENT_HINTS: ReadonlyArray<[string, string]> = [
  ['x-message-ttl', '60000'],
  ['x-dead-letter-exchange', '"dlx"'],
  ['x-dead-letter-routing-key', '"dead"'],
  ['x-max-length', '1000'],
  ['x-overflow', '"reject-publish"'],
  ['x-max-priority', '10'],
  ['x-expires', '600000'],
  ['x-single-active-consumer', 'true'],
  ['x-delivery-limit', '5'],
]

export function argumentsField(hints: ReadonlyArray<[string, string]> = ARGUMENT_HINTS): { el: HTMLElement; read(): FieldTable } {
  const id = uid('args')
  const area = h('textarea', { id, rows: 2, placeholder: 'x-message-ttl: 60000', 'data-testid': 'arguments' })
  const chips = h('div', { class: 'chips' }, hints.map(([key, example]) =>
    h('button', { type: 'button', onClick: () => {
      area.value = `${area.value.trimEnd()}${area.value.trim() ? '\n' : ''}${key}: ${example}`
      area.focus()
    } }, key),
  ))
  const el = h('div', { class: 'wide field' }, h('label', { class: 'field', for: id }, 'Arguments (key: value per line)'), area, chips)
  return { el, read: () => tableOrThrow(area.value, 'arguments') }
}

export const EXCHANGE_ARGUMENT_HINTS: ReadonlyArray<[string, string]> = [['alternate-exchange', '"unrouted"']]

/** The table typed into an arguments field, or undefined after telling the user what is wrong with it. */
export function readArguments(ctx: ConsoleContext, args: { read(): FieldTable }): FieldTable | undefined {
  try {
    return args.read()
  } catch (error) {
    ctx.notify((error as Error).message, 'error')
    return undefined
  }
}
