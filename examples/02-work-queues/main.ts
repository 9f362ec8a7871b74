import { tutorialPage } from '../shared/page.js'
import { run } from './work-queues.js'

tutorialPage('work-queues', run)
