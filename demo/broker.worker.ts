// The broker's SharedWorker script, as an app writes it: `import { startBroker } from 'warren/worker'`.
import { startBroker } from '../src/worker.js'

startBroker()
