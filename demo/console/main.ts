// The console on a page of its own: `?vhost=orders` picks the vhost, `?theme=dark|light` the theme.
import { mountConsole, type ConsoleOptions } from '../../src/console/index.js'
import { startBrokerWorker } from '../warren.js'

const params = new URLSearchParams(location.search)
const theme = params.get('theme')
const handle = mountConsole(document.querySelector<HTMLElement>('#console')!, {
  vhost: params.get('vhost') ?? '/',
  // Opened on its own, the console starts the broker if no tab did yet.
  sharedWorker: startBrokerWorker,
  ...(theme === 'dark' || theme === 'light' ? { theme: theme as ConsoleOptions['theme'] } : {}),
})

declare global {
  interface Window {
    warrenConsole: typeof handle
  }
}
window.warrenConsole = handle
