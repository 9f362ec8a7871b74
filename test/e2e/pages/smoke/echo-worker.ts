// A dedicated worker that answers on a BroadcastChannel: proves dedicated workers build and
// reach other tabs without a port.
const channel = new BroadcastChannel('smoke-from-worker')
self.onmessage = (event: MessageEvent) => channel.postMessage({ fromWorker: event.data })
