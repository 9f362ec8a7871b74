import { tutorialPage } from '../shared/page.js'
import { run } from './routing.js'

tutorialPage('routing', run)
