/**
 * The messages that cross a context boundary beside the frames: what a window and the
 * SharedWorker say on the worker's own port, what an elected host announces, and the network
 * relay of job workers. (The management signals are in management.ts.) Each has a guard, as
 * the frames do: whatever arrives is checked before it is used, and no guard throws.
 */

function read(data: unknown): Record<string, unknown> | undefined {
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isCounters = (v: unknown): v is Readonly<Record<string, number>> => {
  const r = read(v)
  return r !== undefined && Object.values(r).every(isNumber)
}

// ---------------------------------------------------------------- the SharedWorker's port

/** Window → SharedWorker: the transferred port (`ports[0]`) carries a MessagePort link from now on. */
export interface AttachMessage {
  readonly op: 'attach'
  /**
   * [remote] The link is to this remote RabbitMQ (a `stomp+ws://` connection), reached through
   * the broker host's socket for it, not to the local broker. The credentials travel only here,
   * on a port to the host, never on a BroadcastChannel.
   */
  readonly remote?: RemoteAttach
}

/** [remote] A direct connection's remote: Web-STOMP URL (ws:// or wss://), login, vhost. */
export interface RemoteAttach {
  readonly url: string
  readonly login?: string
  readonly passcode?: string
  readonly vhost?: string
}

/** Window → SharedWorker: asks for the counters (tests and benchmarks). */
export interface StatsRequest {
  readonly op: 'stats'
}

export type PortRequest = AttachMessage | StatsRequest

/** SharedWorker → window: the broker serves (say hello at once), or the counters asked for. */
export type PortNotice =
  | { readonly op: 'ready'; readonly epoch: number; readonly brokerId: string }
  | {
      readonly op: 'stats'
      readonly host: Readonly<Record<string, number>>
      readonly broker: Readonly<Record<string, number>>
      readonly sessions: number
      readonly epoch: number
    }

export const isAttachMessage = (data: unknown): data is AttachMessage => {
  try {
    return read(data)?.op === 'attach'
  } catch {
    return false
  }
}

const MAX_REMOTE_FIELD = 4096
const isRemoteField = (v: unknown): v is string | undefined => v === undefined || (typeof v === 'string' && v.length <= MAX_REMOTE_FIELD)

/** A remote of an attach, or undefined when it is not one (a bad field is no remote at all). */
export function parseRemoteAttach(data: unknown): RemoteAttach | undefined {
  const r = read(data)
  if (!r || typeof r.url !== 'string' || !/^wss?:\/\/./i.test(r.url) || r.url.length > MAX_REMOTE_FIELD) return undefined
  if (!isRemoteField(r.login) || !isRemoteField(r.passcode) || !isRemoteField(r.vhost)) return undefined
  return {
    url: r.url,
    ...(r.login !== undefined ? { login: r.login } : {}),
    ...(r.passcode !== undefined ? { passcode: r.passcode } : {}),
    ...(r.vhost !== undefined ? { vhost: r.vhost } : {}),
  }
}

export function parsePortRequest(data: unknown): PortRequest | null {
  try {
    const r = read(data)
    const op = r?.op
    if (op === 'attach' && r?.remote !== undefined) {
      const remote = parseRemoteAttach(r.remote)
      return remote ? { op, remote } : null
    }
    return op === 'attach' || op === 'stats' ? { op } : null
  } catch {
    return null
  }
}

export function parsePortNotice(data: unknown): PortNotice | null {
  try {
    const r = read(data)
    if (r?.op === 'ready') return isNumber(r.epoch) && typeof r.brokerId === 'string' ? { op: 'ready', epoch: r.epoch, brokerId: r.brokerId } : null
    if (r?.op === 'stats')
      return isCounters(r.host) && isCounters(r.broker) && isNumber(r.sessions) && isNumber(r.epoch)
        ? { op: 'stats', host: r.host, broker: r.broker, sessions: r.sessions, epoch: r.epoch }
        : null
    return null
  } catch {
    return null
  }
}

// ---------------------------------------------------------------- the election channel

/** What a newly elected host posts on the election channel, so that waiting clients say hello at once. */
export interface ElectedNotice {
  readonly op: 'elected'
  readonly brokerId: string
  readonly epoch: number
}

export function parseElectedNotice(data: unknown): ElectedNotice | null {
  try {
    const r = read(data)
    return r?.op === 'elected' && typeof r.brokerId === 'string' && isNumber(r.epoch) ? { op: 'elected', brokerId: r.brokerId, epoch: r.epoch } : null
  } catch {
    return null
  }
}

// ---------------------------------------------------------------- the network relay (jobs)

/** `{ op: 'network', online }` from windows, `{ op: 'network?' }` from workers asking them. */
export type NetworkRelay = { readonly op: 'network'; readonly online: boolean } | { readonly op: 'network?' }

export function parseNetworkRelay(data: unknown): NetworkRelay | null {
  try {
    const r = read(data)
    if (r?.op === 'network?') return { op: 'network?' }
    return r?.op === 'network' && typeof r.online === 'boolean' ? { op: 'network', online: r.online } : null
  } catch {
    return null
  }
}
