/**
 * Names shared by the broker host and its clients. Channel and worker names carry the
 * protocol version, so a page of a new deploy never talks to an old broker script; lock
 * names do not, so two versions never run two brokers on one vhost's storage.
 */
import { PROTOCOL_VERSION } from '../protocol/version.js'

const prefix = (vhost: string, version: number): string => `warren:v${version}:${vhost}`

/** The channel every client of a vhost posts its batches on. */
export const brokerChannelName = (vhost: string, version: number = PROTOCOL_VERSION): string =>
  `${prefix(vhost, version)}:broker`

/** The channel one client listens on: a delivery is cloned once, not to every tab. */
export const clientChannelName = (vhost: string, clientId: string, version: number = PROTOCOL_VERSION): string =>
  `${prefix(vhost, version)}:client:${clientId}`

/** The SharedWorker's name: one broker instance per origin, vhost and protocol version. */
export const sharedWorkerName = (vhost: string, version: number = PROTOCOL_VERSION): string => prefix(vhost, version)

/** Reads a worker name made by `sharedWorkerName`; undefined when it is not one. */
export function parseSharedWorkerName(name: string): { vhost: string; version: number } | undefined {
  const match = /^warren:v(\d+):(.*)$/s.exec(name)
  if (!match) return undefined
  return { version: Number(match[1]), vhost: match[2] === '' ? '/' : match[2]! }
}

/** Held by whoever serves the vhost. */
export const brokerLockName = (vhost: string): string => `warren:${vhost}:broker`

/** Held by a client for its whole life; the broker waits on it to learn that the client is gone. */
export const clientLockName = (vhost: string, clientId: string): string => `warren:${vhost}:client:${clientId}`

/** The channel an elected host announces itself on, so that waiting clients say hello at once. */
export const electionChannelName = (vhost: string): string => `${sharedWorkerName(vhost)}:elected`
