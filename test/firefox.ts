// Where Firefox is and how Playwright starts it: Debian's `firefox-esr`, driven over WebDriver
// BiDi by playwright-core (never a browser downloaded by Playwright).
import { createRequire } from 'node:module'

export function firefoxPath(): string {
  return process.env.FIREFOX_PATH || '/usr/bin/firefox-esr'
}

/** Prefs every Firefox we start gets. */
export const firefoxPrefs: Record<string, string | number | boolean> = {
  // `navigator.storage.persist()` otherwise waits forever on a permission prompt headless.
  'dom.storageManager.prompt.testing': true,
  'dom.storageManager.prompt.testing.allow': true,
}

/** The playwright-core release the BiDi shim below was written against and checked on. */
export const PINNED_PLAYWRIGHT = '1.65.1'
/** The one BiDi command Playwright sends on every new context that Firefox ESR does not know. */
export const UNSUPPORTED_BIDI_COMMAND = 'emulation.setMediaFeaturesOverride'

interface BidiMessage { id?: number; method?: string }
interface Transport {
  send(message: BidiMessage): void
  onmessage?: (message: unknown) => void
}
interface TransportClass { prototype: Transport }

const require = createRequire(import.meta.url)
let shimmed = false

/**
 * Playwright 1.65 sends `emulation.setMediaFeaturesOverride` (prefers-color-scheme) when it
 * creates a context, and Firefox ESR answers "unknown command", which fails every new
 * context. No option turns it off, so the WebSocket transport answers that one command
 * locally with an empty success: we never emulate media features, so nothing is lost. Any
 * other playwright-core version refuses to start until this is checked again.
 */
export function shimPlaywrightForFirefox(): void {
  if (shimmed) return
  const version = (require('playwright-core/package.json') as { version: string }).version
  if (version !== PINNED_PLAYWRIGHT) {
    throw new Error(
      `playwright-core ${version} is not ${PINNED_PLAYWRIGHT}: check whether Firefox still needs ` +
        `${UNSUPPORTED_BIDI_COMMAND} answered locally (test/firefox.ts), then update the pin`,
    )
  }
  const bundle = require('playwright-core/lib/coreBundle') as { server?: { WebSocketTransport?: TransportClass } }
  const transport = bundle.server?.WebSocketTransport
  if (typeof transport?.prototype.send !== 'function') throw new Error('playwright-core has no WebSocketTransport.send to shim')
  const send = transport.prototype.send
  transport.prototype.send = function (this: Transport, message: BidiMessage) {
    if (message.method !== UNSUPPORTED_BIDI_COMMAND) return send.call(this, message)
    // Answered like the transport delivers every message: on a later turn.
    setImmediate(() => this.onmessage?.({ type: 'success', id: message.id, result: {} }))
  }
  shimmed = true
}
