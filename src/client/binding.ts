/** One binding of a queue to an exchange (Kombu's `binding`), for `Queue({ bindings })`. */
import type { FieldTable } from '../protocol/frames.js'
import { Exchange, toExchange, type ExchangeJSON } from './exchange.js'

export interface BindingOptions {
  routingKey?: string
  arguments?: FieldTable
}

export interface BindingJSON {
  exchange: ExchangeJSON
  routingKey: string
  arguments?: FieldTable
}

export class Binding {
  readonly exchange: Exchange<any>
  readonly routingKey: string
  readonly arguments: FieldTable | undefined

  constructor(exchange: Exchange<any> | string, options: BindingOptions = {}) {
    this.exchange = toExchange(exchange)
    this.routingKey = options.routingKey ?? ''
    this.arguments = options.arguments
  }

  toJSON(): BindingJSON {
    return {
      exchange: this.exchange.toJSON(),
      routingKey: this.routingKey,
      ...(this.arguments ? { arguments: this.arguments } : {}),
    }
  }

  static fromJSON(json: BindingJSON): Binding {
    return new Binding(Exchange.fromJSON(json.exchange), {
      routingKey: json.routingKey,
      ...(json.arguments ? { arguments: json.arguments } : {}),
    })
  }
}

/** `binding(exchange, { routingKey, arguments })` */
export const binding = (exchange: Exchange<any> | string, options: BindingOptions = {}): Binding =>
  new Binding(exchange, options)
