// The two-devices demo (demo/remote/) against the private RabbitMQ node: two browser contexts
// (two profiles: each its own SharedWorker broker, IndexedDB and socket) chat and share a job
// queue; one goes offline (its links paused), the other sends, it comes back and catches up.
import { fileURLToPath } from 'node:url'
import type { Server } from 'node:http'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumArgs, chromiumPath } from '../chromium.js'
import { buildPages, serveStatic } from '../e2e/harness.js'
import { liveQueue, rabbitmq, until } from './rabbitmq.js'

let browser: Browser
let server: Server
let laptop: Page
let phone: Page

async function device(baseUrl: string, name: string): Promise<Page> {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.goto(`${baseUrl}/index.html?device=${name}`)
  await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 })
  return page
}

const lines = (page: Page, list: string) => page.locator(`#${list} li`).evaluateAll((lis) => lis.map((li) => ({ ...(li as HTMLElement).dataset })))

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#chat-text', text)
  await page.click('#chat-form button')
}

const heard = (page: Page, text: string) => until(async () => (await lines(page, 'chat-log')).find((l) => l.text === text), `'${text}' to arrive`)

beforeAll(async () => {
  process.env.VITE_RABBITMQ_STOMP_URL = rabbitmq.stompUrl
  const out = await buildPages(['index.html'], fileURLToPath(new URL('../../demo/remote/', import.meta.url)))
  const served = await serveStatic(out)
  server = served.server
  browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true })
  laptop = await device(served.baseUrl, 'laptop')
  phone = await device(served.baseUrl, 'phone')
  // Chat goes through amq.topic: a line reaches a device once its durable queue is bound there,
  // which its federation link's first subscription does; wait for both (and both job consumers).
  await until(async () => {
    const [l, p, j] = await Promise.all([liveQueue('demo-chat-laptop'), liveQueue('demo-chat-phone'), liveQueue('demo-jobs')])
    return l?.consumers === 1 && p?.consumers === 1 && j?.consumers === 2
  }, "both devices' subscriptions at RabbitMQ", 60_000)
})
afterAll(async () => {
  await browser?.close()
  server?.close()
})

describe('demo: two devices through RabbitMQ', () => {
  it('a chat line from one device reaches the other (and its own screen, through RabbitMQ)', async () => {
    await say(laptop, 'hello from the laptop')
    expect(await heard(phone, 'hello from the laptop')).toMatchObject({ from: 'laptop' })
    await heard(laptop, 'hello from the laptop')
  })

  it('one device goes offline, the other sends, it comes back and catches up; what it sent offline goes out', async () => {
    await phone.click('#offline')
    await phone.waitForSelector('body[data-online=false]')
    await say(laptop, 'while you were away 1')
    await say(laptop, 'while you were away 2')
    await say(phone, 'written offline')
    // The laptop has its own lines back from RabbitMQ (so RabbitMQ holds them for the phone),
    // and the phone's line waits in its outbox.
    await heard(laptop, 'while you were away 2')
    await until(async () => (await phone.textContent('#backlog')) === '1', "the phone's outbox to hold its line")
    // Its links are down: nothing reached it meanwhile.
    expect((await lines(phone, 'chat-log')).map((l) => l.text)).not.toContain('while you were away 1')

    await phone.click('#offline')
    await phone.waitForSelector('body[data-online=true]')
    await heard(phone, 'while you were away 1')
    await heard(phone, 'while you were away 2')
    await heard(laptop, 'written offline')
    const texts = (await lines(phone, 'chat-log')).map((l) => l.text)
    expect(texts.indexOf('while you were away 1')).toBeLessThan(texts.indexOf('while you were away 2'))
  })

  it('jobs posted on one device are shared: each done exactly once, across the devices', async () => {
    await laptop.click('#post-jobs')
    await phone.click('#post-jobs')
    const done = await until(async () => {
      const all = [...(await lines(laptop, 'jobs-log')), ...(await lines(phone, 'jobs-log'))].map((l) => l.job)
      return all.length >= 10 ? all : undefined
    }, 'all 10 jobs to be done')
    expect([...done].sort()).toEqual(['laptop#1', 'laptop#2', 'laptop#3', 'laptop#4', 'laptop#5', 'phone#1', 'phone#2', 'phone#3', 'phone#4', 'phone#5'])
  })
})
