/**
 * What a broker tells the vhost's clients when it starts, so that a takeover is quick.
 *
 * A client learns that its broker died when its own request for the broker lock is granted.
 * But when the lock passes straight to a new host (an elected context, or a SharedWorker
 * queued before that client's request), the client's request waits behind the new host and
 * the client keeps talking to a broker that is gone. So the new host:
 * - tells every live client it has no session for that it is unknown (the frame a broker sends
 *   after a restart): a connected client then says hello again at once;
 * - announces itself on the election channel: clients already waiting say hello at once
 *   instead of at their next retry.
 * Live clients are found by their locks (`warren:<vhost>:client:<id>`, held for life).
 */
import type { Broker } from '../engine/broker.js'
import type { ServerFrame } from '../protocol/frames.js'
import type { ElectedNotice } from '../protocol/notices.js'
import { queryLocks, type LockManagerLike } from '../transport/locks.js'
import { clientChannelName, clientLockName, electionChannelName } from '../transport/names.js'

/** Ids of the clients of `vhost` alive right now (empty when locks cannot be queried). */
export async function liveClients(locks: LockManagerLike | undefined, vhost: string): Promise<string[]> {
  const snapshot = await queryLocks(locks)
  const prefix = clientLockName(vhost, '')
  const ids = new Set<string>()
  for (const lock of snapshot?.held ?? []) {
    if (typeof lock.name === 'string' && lock.name.startsWith(prefix)) ids.add(lock.name.slice(prefix.length))
  }
  return [...ids]
}

/**
 * Call in the same task that started serving (no hello can have been answered in between),
 * with the clients found before. Returns how many clients were told.
 */
export function announceTakeover(broker: Broker, vhost: string, clients: readonly string[]): number {
  let told = 0
  for (const clientId of clients) {
    if (broker.hasClient(clientId)) continue
    // No session named: the new broker knows none, so whatever session the client holds is over.
    const frame: ServerFrame = { op: 'unknown-session', clientId, epoch: broker.epoch }
    post(clientChannelName(vhost, clientId), [frame])
    told++
  }
  const notice: ElectedNotice = { op: 'elected', brokerId: broker.brokerId, epoch: broker.epoch }
  post(electionChannelName(vhost), notice)
  return told
}

function post(name: string, data: unknown): void {
  try {
    const channel = new BroadcastChannel(name)
    channel.postMessage(data)
    channel.close()
  } catch {
    // a closing context: nobody to tell
  }
}
