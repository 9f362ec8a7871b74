// The Playwright shim that lets Firefox ESR open contexts (test/firefox.ts): pinned to one
// playwright-core release, answering exactly one BiDi command locally.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { PINNED_PLAYWRIGHT, shimPlaywrightForFirefox, UNSUPPORTED_BIDI_COMMAND } from '../firefox.js'

const require = createRequire(import.meta.url)
type Bundle = { server: { WebSocketTransport: { prototype: object } } }
let bundle: Bundle

// playwright-core's server is one bundle of several MB: loading it is not what is tested.
beforeAll(() => {
  bundle = require('playwright-core/lib/coreBundle') as Bundle
}, 60_000)

describe('Firefox shim for playwright-core', () => {
  it('is pinned to the installed playwright-core, which still sends the command on new contexts', () => {
    expect(require('playwright-core/package.json').version).toBe(PINNED_PLAYWRIGHT)
    const bundle = readFileSync(require.resolve('playwright-core/lib/coreBundle'), 'utf8')
    expect(bundle).toContain(`send("${UNSUPPORTED_BIDI_COMMAND}"`)
  })

  it('answers that command with an empty success on a later turn and sends every other message', async () => {
    shimPlaywrightForFirefox()
    shimPlaywrightForFirefox() // idempotent: one wrapper, not two
    const { WebSocketTransport } = bundle.server
    const sent: string[] = []
    const received: unknown[] = []
    const transport = Object.create(WebSocketTransport.prototype)
    transport._ws = { send: (data: string) => sent.push(data) }
    transport.onmessage = (message: unknown) => received.push(message)

    transport.send({ id: 7, method: UNSUPPORTED_BIDI_COMMAND, params: {} })
    transport.send({ id: 8, method: 'browsingContext.create', params: { type: 'tab' } })
    expect(received).toEqual([])
    expect(sent.map((data) => JSON.parse(data).id)).toEqual([8])
    await new Promise((turn) => setImmediate(turn))
    expect(received).toEqual([{ type: 'success', id: 7, result: {} }])
  })
})
