// The app's broker worker: the shared broker on IndexedDB (the default storage).
import { startBroker } from '../../../../src/worker.js'

startBroker()
