/**
 * The MessagePort link: the same batches as the BroadcastChannel link, over a MessageChannel
 * whose other end is handed to the SharedWorker through its port. Only windows have a
 * SharedWorker port; it is their default link (measured 1.2–1.4× the throughput and half the
 * round trip of BroadcastChannel), and no other context's posts reach a session on it. A port is
 * tied to one worker instance: the wire is opened again (on the new worker) after every broker
 * restart.
 */
import type { AttachMessage, RemoteAttach } from '../protocol/notices.js'
import type { OpenWire } from './client-link.js'

/**
 * Opens a MessageChannel to the worker behind `workerPort()` (read at every (re)open); with
 * `remote`, to the host's socket for that RabbitMQ instead of the local broker.
 */
export const portWire =
  (workerPort: () => MessagePort, remote?: RemoteAttach): OpenWire =>
  (receive) => {
    const { port1, port2 } = new MessageChannel()
    port1.onmessage = (event) => receive(event.data)
    const attach: AttachMessage = remote ? { op: 'attach', remote } : { op: 'attach' }
    workerPort().postMessage(attach, [port2])
    return {
      post(batch) {
        port1.postMessage(batch)
      },
      close() {
        port1.onmessage = null
        port1.close()
      },
    }
  }
