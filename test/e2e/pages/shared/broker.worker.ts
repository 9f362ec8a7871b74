// The app's broker worker, as an app would write it.
import { startBroker } from '../../../../src/worker.js'

startBroker()
