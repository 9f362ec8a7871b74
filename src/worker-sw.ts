/**
 * `warren/worker-sw`: `warren/worker` for a service worker, which may not `import()`. The
 * SharedWorker and elected hosts load the management API (the service and comlink) when the
 * first console attaches; here it is bundled statically instead, so a console reaches a
 * broker hosted by a service worker too. Use it in place of `warren/worker` in `sw.ts`.
 */
import * as consoles from './hosts/management-consoles.js'
import { bundleManagement } from './hosts/management.js'

bundleManagement(consoles)

export * from './worker.js'
