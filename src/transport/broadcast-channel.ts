/**
 * The BroadcastChannel link, the default: every context has BroadcastChannel, and only
 * windows can reach a SharedWorker's port. A client posts its batches on the vhost's broker
 * channel and listens on a channel of its own, so what the broker sends it is cloned once.
 */
import type { ClientKind, Welcome } from '../protocol/frames.js'
import { ClientLink, type ClientLinkOptions, type OpenWire } from './client-link.js'
import { detectClientKind } from './env.js'
import type { ConnectOptions, Link } from './link.js'
import { brokerChannelName, clientChannelName } from './names.js'

/**
 * The wire: one channel to listen on, one to post on. The posting channel has no listener,
 * but a BroadcastChannel still receives what every other client posts on that name, so it is
 * opened per batch and closed right away, which keeps other clients' traffic out of this
 * context.
 */
export const broadcastWire =
  (vhost: string, clientId: string): OpenWire =>
  (receive) => {
    const inbox = new BroadcastChannel(clientChannelName(vhost, clientId))
    inbox.onmessage = (event) => receive(event.data)
    const brokerName = brokerChannelName(vhost)
    return {
      post(batch) {
        const out = new BroadcastChannel(brokerName)
        try {
          out.postMessage(batch)
        } finally {
          out.close()
        }
      },
      close() {
        inbox.onmessage = null
        inbox.close()
      },
    }
  }

export interface BroadcastLinkOptions extends ConnectOptions {
  kind?: ClientKind
  clientId?: string
  ensureBroker?: ClientLinkOptions['ensureBroker']
  onBrokerLockGranted?: ClientLinkOptions['onBrokerLockGranted']
  locks?: ClientLinkOptions['locks']
  lifecycle?: ClientLinkOptions['lifecycle']
}

/** Opens a BroadcastChannel link; resolves once a broker has welcomed it. */
export async function openBroadcastLink(options: BroadcastLinkOptions): Promise<{ link: ClientLink; welcome: Welcome }> {
  const clientId = options.clientId ?? crypto.randomUUID()
  const link = new ClientLink({
    ...options,
    clientId,
    kind: options.kind ?? detectClientKind(),
    openWire: broadcastWire(options.vhost, clientId),
  })
  const welcome = await link.start()
  return { link, welcome }
}

/** The connector shape of `openBroadcastLink` (workers: no SharedWorker to start). */
export const connectBroadcast = (options: ConnectOptions): Promise<{ link: Link; welcome: Welcome }> =>
  openBroadcastLink(options)
