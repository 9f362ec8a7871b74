import { tutorialPage } from '../shared/page.js'
import { run } from './hello-world.js'

tutorialPage('hello-world', run)
