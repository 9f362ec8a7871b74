/**
 * [remote] The status of the broker host's remote brokers, from any context of the vhost:
 * state, last error, rates and each shovel and federation link. The host posts a notice on
 * every change; `watchRemotes` asks for the current one first. No credentials ever travel.
 *
 * ```ts
 * const stop = watchRemotes('/', (remotes) => render(remotes))
 * ```
 */
import { parseRemotesNotice, remotesChannelName, type RemoteStatus, type RemotesNotice } from '../protocol/remote.js'

export type { LinkStatus, RemoteError, RemoteState, RemoteStatus, ShovelSpec, FederationSpec } from '../protocol/remote.js'

/** Calls `listener` with every status the broker host of `vhost` posts; returns a function that stops. */
export function watchRemotes(vhost: string, listener: (remotes: readonly RemoteStatus[]) => void): () => void {
  const channel = new BroadcastChannel(remotesChannelName(vhost))
  channel.onmessage = (event: MessageEvent) => {
    const notice = parseRemotesNotice(event.data)
    if (notice?.op === 'remotes') listener(notice.remotes)
  }
  channel.postMessage({ op: 'remotes?' } satisfies RemotesNotice)
  return () => channel.close()
}
