// Warren's broker, started the way an app starts it.
import { startBroker } from '../../src/worker.js'

startBroker()
