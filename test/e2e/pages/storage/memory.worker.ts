// A broker worker whose app chose memory storage explicitly.
import { startBroker } from '../../../../src/worker.js'

startBroker({ storage: 'memory' })
