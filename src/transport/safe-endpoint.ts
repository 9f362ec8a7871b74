/**
 * A message endpoint over a BroadcastChannel that drops posts once the channel is closed: a
 * late answer to a console that is gone, or a call after close, must not throw. Shaped like
 * comlink's Endpoint, which both ends of the management API hand it to.
 */
export interface ChannelEndpoint {
  postMessage(message: unknown): void
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: object): void
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: object): void
}

export function safeEndpoint(channel: BroadcastChannel): ChannelEndpoint {
  return {
    postMessage: (message: unknown) => {
      try {
        channel.postMessage(message)
      } catch {
        // Closed: nobody is listening any more.
      }
    },
    addEventListener: channel.addEventListener.bind(channel) as ChannelEndpoint['addEventListener'],
    removeEventListener: channel.removeEventListener.bind(channel) as ChannelEndpoint['removeEventListener'],
  }
}
