// A trivial SharedWorker: one counter for every tab that connects, so a test can tell
// whether two tabs really share one instance.
interface ConnectEvent { ports: readonly MessagePort[] }
const scope = self as unknown as { onconnect: ((event: ConnectEvent) => void) | null }

const instance = Math.random().toString(36).slice(2)
let connections = 0
let count = 0

scope.onconnect = (event) => {
  connections++
  const port = event.ports[0]!
  port.onmessage = () => {
    count++
    port.postMessage({ instance, connections, count })
  }
}
