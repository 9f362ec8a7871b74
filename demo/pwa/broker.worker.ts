// The broker's SharedWorker script, where the browser has SharedWorker (see warren.ts).
import { startBroker } from '../../src/worker.js'

startBroker()
