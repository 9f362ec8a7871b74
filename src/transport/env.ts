/** What kind of context this client runs in, for the hello (shown by management tools). */
import type { ClientKind } from '../protocol/frames.js'

type Scope = Record<string, unknown>

const isInstance = (scope: Scope, ctor: string): boolean => {
  const C = scope[ctor]
  return typeof C === 'function' && scope instanceof (C as new () => unknown)
}

export function detectClientKind(scope: Scope = globalThis as unknown as Scope): ClientKind {
  if (typeof scope.window === 'object' && scope.window === scope) {
    try {
      return scope.parent !== scope ? 'iframe' : 'window'
    } catch {
      return 'iframe'
    }
  }
  if (isInstance(scope, 'ServiceWorkerGlobalScope')) return 'service-worker'
  if (isInstance(scope, 'SharedWorkerGlobalScope')) return 'shared-worker'
  if (isInstance(scope, 'DedicatedWorkerGlobalScope')) return 'dedicated-worker'
  const proc = scope.process as { versions?: { node?: string } } | undefined
  if (proc?.versions?.node) return 'node'
  return 'unknown'
}

/** Whether this context may construct a SharedWorker (only windows and iframes can). */
export const canStartSharedWorker = (): boolean => typeof (globalThis as Scope).SharedWorker === 'function'
