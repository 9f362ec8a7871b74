// The broker: one SharedWorker per origin (and vhost), started by the first tab.
import { startBroker } from 'warren/worker'

startBroker()
