// The broker worker of the remote tests. Its remote RabbitMQ comes from the build
// (VITE_RABBITMQ_STOMP_URL); what it is configured with depends on the vhost it serves, so
// each test starts a broker of its own: 'badauth*' logs in with a wrong passcode,
// 'outbox*' starts with a shovel in its options, 'unreachable*' too, to a port nobody listens
// on; others get links over the management API.
import { parseSharedWorkerName } from '../../../src/transport/names.js'
import { startBroker } from '../../../src/worker.js'

const vhost = parseSharedWorkerName((globalThis as unknown as { name: string }).name)?.vhost ?? '/'
const url = import.meta.env.VITE_RABBITMQ_STOMP_URL as string

startBroker({
  remotes: {
    upstream: {
      // 'unreachable*': nothing listens there (port 9, discard, is closed on loopback).
      url: vhost.startsWith('unreachable') ? 'ws://127.0.0.1:9/ws' : url,
      login: 'warren',
      passcode: vhost.startsWith('badauth') ? 'not-the-passcode' : 'warren-s3cret',
      vhost: '/',
      // Fast reconnects: the tests restart RabbitMQ and wait for the drain.
      backoff: { initialMs: 100, maxMs: 1000 },
    },
  },
  shovels: vhost.startsWith('outbox') || vhost.startsWith('unreachable')
    ? [{ name: 'outbox', remote: 'upstream', queue: 'outbox', exchange: 'amq.topic', routingKey: `from.${vhost}` }]
    : [],
})
