import { tutorialPage } from '../shared/page.js'
import { run } from './rpc.js'

tutorialPage('rpc', run)
