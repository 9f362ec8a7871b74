// The two-devices demo's broker: one per browser profile, holding the one WebSocket to RabbitMQ
// (remote 'rabbit'). Where RabbitMQ is and how to log in comes from the build
// (VITE_RABBITMQ_STOMP_URL, VITE_RABBITMQ_LOGIN, VITE_RABBITMQ_PASSCODE; defaults: a local
// RabbitMQ's Web-STOMP port and guest, which RabbitMQ accepts from loopback only). The
// credentials stay in this worker: tabs see the remote's state, never its passcode.
import { startBroker } from '../../src/worker.js'

const env = import.meta.env
startBroker({
  remotes: {
    rabbit: {
      url: (env.VITE_RABBITMQ_STOMP_URL as string | undefined) ?? 'ws://127.0.0.1:15674/ws',
      login: (env.VITE_RABBITMQ_LOGIN as string | undefined) ?? 'guest',
      passcode: (env.VITE_RABBITMQ_PASSCODE as string | undefined) ?? 'guest',
      vhost: '/',
    },
  },
})
