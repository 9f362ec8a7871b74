// A dedicated worker running one role of a reliability run. It reaches the broker over
// BroadcastChannel (workers cannot start the SharedWorker) and sends its events to its page,
// which hands them to the harness and says when they arrived.
import { runRole, type RoleConfig, type RunningRole, type WireEvent } from './roles.js'

type FromPage = { kind: 'start'; config: RoleConfig } | { kind: 'logged'; seq: number } | { kind: 'stop' }

let running: RunningRole | undefined
let seq = 0
const waiting = new Map<number, () => void>()

const sink = (events: WireEvent[]) =>
  new Promise<void>((resolve) => {
    const n = ++seq
    waiting.set(n, resolve)
    self.postMessage({ kind: 'log', seq: n, events })
  })

self.onmessage = (event: MessageEvent<FromPage>) => {
  const message = event.data
  if (message.kind === 'start') running = runRole(message.config, sink)
  else if (message.kind === 'logged') {
    waiting.get(message.seq)?.()
    waiting.delete(message.seq)
  } else if (message.kind === 'stop') void running?.stop().then(() => self.postMessage({ kind: 'stopped' }))
}
