/**
 * The BroadcastChannel link, the one of workers (windows use it on request): every context has
 * BroadcastChannel, and only windows can reach a SharedWorker's port. A client posts its batches
 * on the vhost's broker channel and listens on a channel of its own, so what the broker sends it
 * is cloned once.
 */
import type { ClientKind, Welcome } from '../protocol/frames.js'
import { ClientLink, type ClientLinkOptions, type OpenWire } from './client-link.js'
import { detectClientKind } from './env.js'
import type { ConnectOptions, Link } from './link.js'
import { brokerChannelName, clientChannelName } from './names.js'

/**
 * The wire: one channel to listen on, one to post on. The posting channel has no listener,
 * but it is still a receiver: while it is open, every other client's batches are carried to
 * this context too. Opening a channel per post instead was measured slower (1.0 ms against
 * 0.65 ms per round trip), so it stays open while the client posts and is closed after
 * POST_IDLE_MS without a post: with seven idle connected tabs beside two busy ones, the busy
 * ones' round trip through the broker measured 1.7 ms with the channels open, 1.1 ms without.
 */
export const POST_IDLE_MS = 2000

export const broadcastWire =
  (vhost: string, clientId: string): OpenWire =>
  (receive) => {
    const inbox = new BroadcastChannel(clientChannelName(vhost, clientId))
    inbox.onmessage = (event) => receive(event.data)
    let out: BroadcastChannel | undefined
    let lastPost = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const idle = () => {
      const quiet = Date.now() - lastPost
      if (quiet < POST_IDLE_MS) {
        timer = unref(setTimeout(idle, POST_IDLE_MS - quiet))
        return
      }
      timer = undefined
      out?.close()
      out = undefined
    }
    return {
      post(batch) {
        out ??= new BroadcastChannel(brokerChannelName(vhost))
        out.postMessage(batch)
        lastPost = Date.now()
        timer ??= unref(setTimeout(idle, POST_IDLE_MS))
      },
      close() {
        clearTimeout(timer)
        timer = undefined
        inbox.onmessage = null
        inbox.close()
        out?.close()
        out = undefined
      },
    }
  }

/** Node: a pending idle check must not keep the process alive. */
const unref = <T>(handle: T): T => {
  ;(handle as { unref?: () => void }).unref?.()
  return handle
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
