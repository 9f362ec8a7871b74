import { tutorialPage } from '../shared/page.js'
import { run } from './topics.js'

tutorialPage('topics', run)
