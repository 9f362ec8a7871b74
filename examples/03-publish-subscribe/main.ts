import { tutorialPage } from '../shared/page.js'
import { run } from './publish-subscribe.js'

tutorialPage('publish-subscribe', run)
