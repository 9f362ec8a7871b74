// One harness per remote test file: the remote pages built against the private RabbitMQ node,
// and RabbitMQ's user for the tests (not guest: the tests look for its passcode in notices).
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { startHarness, type Harness } from '../e2e/harness.js'
import type { RemoteStatus } from '../../src/protocol/remote.js'
import { rabbit, rabbitmq, until } from './rabbitmq.js'

export const PASSCODE = 'warren-s3cret'

export async function remoteHarness(): Promise<Harness> {
  await rabbit.ctl('add_user', 'warren', PASSCODE).catch(() => {}) // already there from an earlier file
  await rabbit.ctl('set_permissions', '-p', '/', 'warren', '.*', '.*', '.*')
  process.env.VITE_RABBITMQ_STOMP_URL = rabbitmq.stompUrl
  return startHarness({ pages: ['index.html'], root: fileURLToPath(new URL('./pages/', import.meta.url)) })
}

/** The remote 'upstream' of `vhost` as the page last heard it, once `check` holds. */
export async function remoteWhere(page: Page, vhost: string, check: (remote: RemoteStatus) => boolean, what: string, timeoutMs?: number): Promise<RemoteStatus> {
  let last: RemoteStatus | undefined
  try {
    return await until(async () => {
      const remotes = await page.evaluate((v) => window.r.status(v), vhost)
      last = remotes.find((r) => r.name === 'upstream')
      return last && check(last) ? last : undefined
    }, what, timeoutMs)
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last)}`)
  }
}
