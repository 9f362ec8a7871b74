// Warren's broker, started the way an app starts it. The remote group's vhosts ('remote-*')
// get the private RabbitMQ node as remote 'upstream' (its URL comes from the build, set only
// when the remote group runs), so shovels and federation links are measured through it.
import { parseSharedWorkerName } from '../../src/transport/names.js'
import { startBroker } from '../../src/worker.js'

const vhost = parseSharedWorkerName((globalThis as unknown as { name: string }).name)?.vhost ?? ''
const url = import.meta.env.VITE_RABBITMQ_STOMP_URL as string | undefined

startBroker(vhost.startsWith('remote-') && url
  ? { remotes: { upstream: { url, login: 'guest', passcode: 'guest', vhost: '/' } } }
  : undefined)
