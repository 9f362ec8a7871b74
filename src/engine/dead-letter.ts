import type { FieldTable, MessageProperties } from '../protocol/frames.js'

export type DeathReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit'

/** One entry of the `x-death` header, exactly as RabbitMQ writes it. */
export interface XDeath {
  queue: string
  reason: DeathReason
  count: number
  /** First occurrence, seconds since the epoch (an AMQP timestamp). */
  time: number
  exchange: string
  'routing-keys': string[]
  'original-expiration'?: string
}

function readDeaths(headers: FieldTable): XDeath[] {
  const raw = headers['x-death']
  if (!Array.isArray(raw)) return []
  return raw.filter((entry): entry is XDeath => typeof entry === 'object' && entry !== null).map((entry) => ({ ...entry }))
}

/** The routing keys a message was published with: its key plus CC (BCC is never shown). */
export function originalRoutingKeys(routingKey: string, headers: FieldTable | undefined): string[] {
  const cc = headers?.['CC']
  return [routingKey, ...(Array.isArray(cc) ? cc.filter((key): key is string => typeof key === 'string') : [])]
}

/**
 * Properties of a dead-lettered copy: `x-death` updated (newest first, one entry per queue and
 * reason, repeats counted and moved to the front), first/last death headers, `expiration`
 * removed so the copy cannot expire again, BCC stripped, CC stripped when a DL routing key is set.
 */
export function deadLetterProperties(
  properties: MessageProperties,
  queue: string,
  reason: DeathReason,
  exchange: string,
  routingKey: string,
  nowMs: number,
  replacesRoutingKey: boolean,
): MessageProperties {
  const headers: FieldTable = { ...(properties.headers ?? {}) }
  const deaths = readDeaths(headers)
  const index = deaths.findIndex((death) => death.queue === queue && death.reason === reason)
  if (index >= 0) {
    const [existing] = deaths.splice(index, 1)
    deaths.unshift({ ...existing!, count: existing!.count + 1 })
  } else {
    const entry: XDeath = {
      queue,
      reason,
      count: 1,
      time: Math.floor(nowMs / 1000),
      exchange,
      'routing-keys': originalRoutingKeys(routingKey, properties.headers),
    }
    if (properties.expiration !== undefined) entry['original-expiration'] = properties.expiration
    deaths.unshift(entry)
  }
  headers['x-death'] = deaths
  if (headers['x-first-death-queue'] === undefined) {
    headers['x-first-death-queue'] = queue
    headers['x-first-death-reason'] = reason
    headers['x-first-death-exchange'] = exchange
  }
  headers['x-last-death-queue'] = queue
  headers['x-last-death-reason'] = reason
  headers['x-last-death-exchange'] = exchange
  delete headers['BCC']
  if (replacesRoutingKey) delete headers['CC']
  const { expiration: _expiration, ...rest } = properties
  return { ...rest, headers }
}

/**
 * A dead-lettered message that would return to a queue it already died in is dropped,
 * unless that cycle contained a rejection (RabbitMQ's rule). `deaths` is newest first.
 */
export function isDeadLetterCycle(headers: FieldTable | undefined, targetQueue: string): boolean {
  const deaths = headers ? readDeaths(headers) : []
  for (const death of deaths) {
    if (death.reason === 'rejected') return false
    if (death.queue === targetQueue) return true
  }
  return false
}
