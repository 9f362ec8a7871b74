/**
 * Where `Connection.open(url)` finds a link. A scheme (`memory`, `shared`, …) maps to a
 * factory that resolves a `Connector`; a registered scheme wins over the built-in ones
 * (`shared`, `memory`), which load the host code lazily, so the client never imports a host.
 */
import { BUILTIN_SCHEMES, builtinTransport } from '../builtin-transports.js'
import type { Connector } from '../transport/link.js'
import { BrokerUnavailableError } from './errors.js'

export type TransportFactory = (url: string) => Connector | Promise<Connector>

const factories = new Map<string, TransportFactory>()

export const registerTransport = (scheme: string, factory: TransportFactory): void => {
  factories.set(scheme.toLowerCase(), factory)
}

export const unregisterTransport = (scheme: string): void => {
  factories.delete(scheme.toLowerCase())
}

export interface ParsedUrl {
  scheme: string
  vhost: string
}

/**
 * `shared://` and `shared:///` mean vhost `/`; `shared://orders` means vhost `orders`
 * (there is no host part: the broker is found by origin and vhost).
 */
export const parseUrl = (url: string): ParsedUrl => {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^?#]*)/i.exec(url)
  if (!match) throw new TypeError(`not a broker URL: '${url}' (expected e.g. 'shared://' or 'memory://')`)
  const rest = match[2]!
  const vhost = rest === '' || rest === '/' ? '/' : decodeURIComponent(rest.replace(/^\//, ''))
  return { scheme: match[1]!.toLowerCase(), vhost }
}

export const resolveConnector = async (url: string): Promise<Connector> => {
  const { scheme } = parseUrl(url)
  const factory = factories.get(scheme)
  if (factory) return factory(url)
  const builtin = builtinTransport(scheme)
  if (builtin) return builtin
  const known = [...new Set([...BUILTIN_SCHEMES, ...factories.keys()])].map((s) => `'${s}://'`).join(', ')
  throw new BrokerUnavailableError(`no transport for '${scheme}://' (known: ${known}); call registerTransport('${scheme}', …)`)
}
