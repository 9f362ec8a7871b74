/**
 * `warren/vite`: everything a Vite app needs for Warren, so that `plugins: [warren()]` is the
 * whole configuration.
 *
 * - Workers are built as ES modules: the broker worker and Warren's clients in dedicated
 *   workers use top-level await and `import`, which Vite's default `iife` worker format refuses.
 * - Warren's entries are pre-bundled when the dev server starts. The broker worker's import of
 *   `warren/worker` is only found once a page starts the SharedWorker, and a dependency found
 *   that late makes Vite reload every open page once.
 * - `Service-Worker-Allowed: /` in dev and preview, so a service worker built into a subfolder
 *   (`import url from './sw.ts?worker&url'`) may control the whole app. Production servers need
 *   the same header, or the service worker emitted at the root.
 */
import type { Plugin } from 'vite'

export interface WarrenPluginOptions {
  /** `Service-Worker-Allowed` header in dev and preview; `false` sends none. Default `'/'`. */
  serviceWorkerAllowed?: string | false
}

export function warren(options: WarrenPluginOptions = {}): Plugin {
  const { serviceWorkerAllowed = '/' } = options
  const headers: Record<string, string> = serviceWorkerAllowed === false ? {} : { 'Service-Worker-Allowed': serviceWorkerAllowed }
  return {
    name: 'warren',
    config: () => ({
      worker: { format: 'es' },
      optimizeDeps: { include: ['warren', 'warren/worker', 'warren/console', 'warren/jobs', 'warren/simple', 'warren/rpc', 'warren/compression'] },
      server: { headers },
      preview: { headers },
    }),
  }
}

export default warren
