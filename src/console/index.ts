/**
 * Warren's management console: a panel any page of the origin can mount (it lives in a shadow
 * root, so the app's styles and the console's never meet), polling the broker's management
 * API once a second.
 *
 * ```ts
 * import { mountConsole } from 'warren/console'
 * mountConsole(document.querySelector('#console')!, { vhost: '/' })
 * ```
 */
import { listVhosts, openManagement, type ManagementClient, type ManagementStatus } from '../client/management.js'
import type { Overview } from '../protocol/management.js'
import { sharedWorkerName } from '../transport/names.js'
import { connectionsView } from './connections-view.js'
import type { ConsoleContext, View } from './context.js'
import { h, setText } from './dom.js'
import { exchangesView } from './exchanges-view.js'
import { fmtCount, shortId } from './format.js'
import { overviewView } from './overview-view.js'
import { queuesView } from './queues-view.js'
import { STYLES } from './styles.js'

export interface ConsoleOptions {
  vhost?: string
  /** 'auto' (default) follows the system's light or dark preference. */
  theme?: 'auto' | 'light' | 'dark'
  /** Milliseconds between two overviews. Default 1000. */
  pollInterval?: number
  /** Which tab shows first. Default 'queues'. */
  tab?: Tab
  /**
   * Starts the vhost's broker if no page did yet (a window holding the worker keeps it alive):
   * `(name) => new SharedWorker(new URL('./broker.worker.ts', import.meta.url), { type: 'module', name })`.
   */
  sharedWorker?: (name: string) => SharedWorker
}

export type Tab = 'queues' | 'exchanges' | 'connections'

export interface ConsoleHandle {
  readonly vhost: string
  /** The latest overview shown. */
  readonly overview: Overview | undefined
  readonly status: ManagementStatus
  /** Resolves after the first overview was drawn. */
  readonly ready: Promise<void>
  setVhost(vhost: string): Promise<void>
  /** Fetches and draws an overview now. */
  refresh(): Promise<void>
  destroy(): void
}

const LOGO = `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M3 20h18"/><path d="M5 20a7 7 0 0 1 14 0"/><path d="M9 20a3 3 0 0 1 6 0"/><path d="M8 9.5C7 6 7.5 3 9 3s2 3 1.5 6"/><path d="M16 9.5c1-3.5.5-6.5-1-6.5s-2 3-1.5 6"/></svg>`

export function mountConsole(element: HTMLElement, options: ConsoleOptions = {}): ConsoleHandle {
  const pollInterval = options.pollInterval ?? 1000
  const shadow = element.shadowRoot ?? element.attachShadow({ mode: 'open' })
  let vhost = options.vhost ?? '/'
  let management: ManagementClient | undefined
  let overview: Overview | undefined
  let status: ManagementStatus = 'reconnecting'
  let destroyed = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let generation = 0
  const workers: SharedWorker[] = []

  // ---------------------------------------------------------------- chrome
  const root = h('div', { class: 'wc' })
  const statusPill = h('span', { class: 'status', 'data-testid': 'status' }, h('i'), 'connecting')
  const vhostSelect = h('select', { 'aria-label': 'Virtual host', 'data-testid': 'vhost', style: 'width: auto' })
  const meta = h('span', { class: 'meta' })
  const toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' })
  const banner = h('div', { class: 'banner', hidden: true })
  const logo = h('span')
  logo.innerHTML = LOGO
  const header = h('header', { class: 'top' },
    h('div', { class: 'brand' }, logo.firstElementChild, 'Warren', h('small', null, 'management')),
    statusPill,
    h('span', { class: 'spacer' }),
    h('label', { class: 'vhost' }, 'vhost', vhostSelect),
    meta,
  )

  const notify = (message: string, kind: 'ok' | 'error' = 'ok') => {
    const toast = h('div', { class: `toast ${kind === 'error' ? 'error' : ''}`, 'data-testid': `toast-${kind}` }, message)
    toasts.append(toast)
    setTimeout(() => toast.remove(), kind === 'error' ? 7000 : 3500)
  }

  const ctx: ConsoleContext = {
    management: () => management,
    overview: () => overview,
    notify,
    async act(fn, success) {
      const m = management
      if (!m) {
        notify('Not connected to a broker yet.', 'error')
        return undefined
      }
      try {
        const result = await fn(m)
        notify(success(result))
        await refresh()
        return result
      } catch (error) {
        notify((error as Error)?.message ?? String(error), 'error')
        return undefined
      }
    },
  }

  const views: Record<Tab, View> = {
    queues: queuesView(ctx),
    exchanges: exchangesView(ctx),
    connections: connectionsView(ctx),
  }
  const top = overviewView()
  const counts: Record<Tab, HTMLElement> = {
    queues: h('span', { class: 'count' }, '0'),
    exchanges: h('span', { class: 'count' }, '0'),
    connections: h('span', { class: 'count' }, '0'),
  }
  let tab: Tab = options.tab ?? 'queues'
  const tabButtons = (Object.keys(views) as Tab[]).map((name) =>
    h('button', { type: 'button', role: 'tab', 'data-tab': name, onClick: () => select(name) }, name[0]!.toUpperCase() + name.slice(1), counts[name]),
  )
  const select = (name: Tab) => {
    tab = name
    for (const button of tabButtons) button.setAttribute('aria-selected', String(button.dataset.tab === name))
    for (const [key, view] of Object.entries(views)) view.el.hidden = key !== name
    if (overview) views[name].update(overview)
  }
  const content = h('div', null, Object.values(views).map((view) => view.el))
  root.append(header, h('main', { class: 'body' }, banner, top.el, h('div', null, h('nav', { class: 'tabs', role: 'tablist' }, tabButtons), content)), toasts)
  const style = h('style', null, STYLES)
  shadow.replaceChildren(style, root)
  select(tab)

  // ---------------------------------------------------------------- theme
  const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined
  const applyTheme = () => root.classList.toggle('dark', options.theme === 'dark' || ((options.theme ?? 'auto') === 'auto' && !!media?.matches))
  media?.addEventListener('change', applyTheme)
  applyTheme()

  // ---------------------------------------------------------------- data
  const setStatus = (next: ManagementStatus | 'connecting') => {
    status = next === 'connecting' ? 'reconnecting' : next
    statusPill.className = `status ${next}`
    statusPill.replaceChildren(h('i'), next === 'connected' ? 'live' : next)
  }

  const draw = (next: Overview) => {
    overview = next
    banner.hidden = true
    top.update(next)
    views[tab].update(next)
    setText(counts.queues, fmtCount(next.totals.queues))
    setText(counts.exchanges, fmtCount(next.totals.exchanges))
    setText(counts.connections, fmtCount(next.totals.clients))
    meta.replaceChildren(
      h('span', null, 'epoch ', h('code', null, String(next.epoch))),
      h('span', null, 'broker ', h('code', null, shortId(next.brokerId))),
      h('span', { class: `storage ${next.storage}`, 'data-testid': 'storage', title: STORAGE_TITLES[next.storage] }, 'storage ', h('code', null, next.storage)),
    )
  }

  const refresh = async () => {
    const m = management
    if (!m) return
    const mine = generation
    let next: Overview
    try {
      next = await m.overview()
    } catch {
      // The client reconnects by itself; the status pill says so.
      return
    }
    if (mine === generation && !destroyed) draw(next)
  }

  const poll = async () => {
    clearTimeout(timer)
    await refresh()
    if (!destroyed) timer = setTimeout(poll, pollInterval)
  }

  let firstDrawn!: () => void
  const ready = new Promise<void>((resolve) => (firstDrawn = resolve))

  const connect = async () => {
    const mine = ++generation
    clearTimeout(timer)
    management?.close()
    management = undefined
    overview = undefined
    setStatus('connecting')
    if (options.sharedWorker && typeof SharedWorker === 'function') {
      // Holding a reference keeps the broker alive while this console is open.
      workers.push(options.sharedWorker(sharedWorkerName(vhost)))
    }
    for (;;) {
      try {
        const m = await openManagement({ vhost })
        if (mine !== generation || destroyed) {
          m.close()
          return
        }
        management = m
        setStatus(m.status)
        m.onStatus((s) => mine === generation && setStatus(s))
        break
      } catch {
        if (mine !== generation || destroyed) return
        banner.hidden = false
        banner.replaceChildren(h('b', null, `No broker serves vhost '${vhost}' yet. `), 'Open a page of this origin that connects to it (the demo app does), and this console will find it.')
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
    await poll()
    firstDrawn()
  }

  // ---------------------------------------------------------------- vhosts
  const fillVhosts = async () => {
    const running = await listVhosts(250).catch(() => [])
    const names = new Set([vhost, ...running.map((r) => r.vhost)])
    const current = [...vhostSelect.options].map((o) => o.value).join('\n')
    const next = [...names].sort()
    if (current !== next.join('\n')) vhostSelect.replaceChildren(...next.map((name) => h('option', { value: name, selected: name === vhost }, name)))
  }
  vhostSelect.addEventListener('change', () => void handle.setVhost(vhostSelect.value))
  const vhostTimer = setInterval(() => void fillVhosts(), 5000)
  void fillVhosts()

  const onPageShow = (event: PageTransitionEvent) => {
    // Back from the back/forward cache: the management client closed on pagehide.
    if (event.persisted) void connect()
  }
  addEventListener('pageshow', onPageShow)

  const handle: ConsoleHandle = {
    get vhost() {
      return vhost
    },
    get overview() {
      return overview
    },
    get status() {
      return status
    },
    ready,
    async setVhost(next) {
      if (next === vhost) return
      vhost = next
      await fillVhosts()
      await connect()
    },
    refresh,
    destroy() {
      destroyed = true
      generation++
      clearTimeout(timer)
      clearInterval(vhostTimer)
      removeEventListener('pageshow', onPageShow)
      media?.removeEventListener('change', applyTheme)
      management?.close()
      for (const worker of workers) worker.port.close()
      shadow.replaceChildren()
    },
  }
  void connect()
  return handle
}

export type { ManagementClient, ManagementStatus } from '../client/management.js'
export { openManagement, listVhosts } from '../client/management.js'
// [remote] Remote brokers' status from any context, and the link specs of the management API.
export { watchRemotes } from '../client/remotes.js'
export type { FederationSpec, LinkStatus, RemoteError, RemoteState, RemoteStatus, ShovelSpec } from '../client/remotes.js'

const STORAGE_TITLES: Record<Overview['storage'], string> = {
  durable: 'Durable state is kept in IndexedDB',
  memory: 'The app chose memory storage: nothing survives a broker restart',
  unavailable: 'IndexedDB could not be opened: persistent messages for durable queues are refused (STORAGE_UNAVAILABLE)',
}
