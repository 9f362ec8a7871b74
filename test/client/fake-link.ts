// A scripted broker for client unit tests: it records every frame and answers with a script,
// so tests can hold replies back, send errors, drop the link and welcome again.
import { PROTOCOL_VERSION } from '../../src/protocol/version.js'
import type { ClientCommand, ServerEvent, Welcome } from '../../src/protocol/frames.js'
import type { Connector, Link, LinkListener } from '../../src/transport/link.js'

export type Script = (frame: ClientCommand, link: FakeLink) => void

/** Answers every request with `ok` (queue.declare gets a name); the default script. */
export const okScript: Script = (frame, link) => {
  if (frame.id === undefined) return
  const result =
    frame.op === 'queue.declare'
      ? { queue: frame.queue || `amq.gen-${frame.id}`, messageCount: 0, consumerCount: 0 }
      : frame.op === 'basic.consume'
        ? { consumerTag: frame.consumerTag }
        : frame.op === 'basic.publish'
          ? { routed: true }
          : {}
  link.emit({ op: 'ok', id: frame.id, result })
}

export class FakeLink implements Link {
  readonly clientId = 'fake-client'
  readonly sent: ClientCommand[] = []
  script: Script
  #listeners = new Set<LinkListener>()
  closed = false
  up = true

  constructor(script: Script = okScript) {
    this.script = script
  }

  welcome(epoch = 1): Welcome {
    return { op: 'welcome', clientId: this.clientId, protocol: PROTOCOL_VERSION, epoch, brokerId: `b${epoch}`, session: `s${epoch}` }
  }

  send(frame: ClientCommand): void {
    this.sent.push(frame)
    if (this.up) queueMicrotask(() => this.script(frame, this))
  }

  listen(listener: LinkListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async close(): Promise<void> {
    this.closed = true
  }

  /** Sends an event to the client (a microtask later, like a real link). */
  emit(event: ServerEvent): void {
    queueMicrotask(() => {
      for (const listener of this.#listeners) listener.frame(event)
    })
  }

  drop(reason = new Error('gone')): void {
    this.up = false
    for (const listener of this.#listeners) listener.down(reason)
  }

  reconnect(epoch: number): void {
    this.up = true
    const welcome = this.welcome(epoch)
    for (const listener of this.#listeners) listener.welcome(welcome)
  }

  ops(op: ClientCommand['op']): ClientCommand[] {
    return this.sent.filter((frame) => frame.op === op)
  }

  connector(): Connector {
    return async () => ({ link: this, welcome: this.welcome(1) })
  }
}
