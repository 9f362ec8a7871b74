// Vitest 5 targets Node >= 22 and its runner process calls Map.groupBy (printing failed
// tests), Object.groupBy (snapshots) and Promise.withResolvers (watch mode). Node 20 lacks all
// three: without them a failing test crashes the reporter and its error is never shown.
// Installed only where missing; vitest.config.ts imports this first.

type GroupBy = <K, T>(items: Iterable<T>, key: (item: T, index: number) => K) => Map<K, T[]>

const mapCtor = Map as unknown as { groupBy?: GroupBy }
if (typeof mapCtor.groupBy !== 'function') {
  mapCtor.groupBy = <K, T>(items: Iterable<T>, key: (item: T, index: number) => K) => {
    const groups = new Map<K, T[]>()
    let index = 0
    for (const item of items) {
      const k = key(item, index++)
      const group = groups.get(k)
      if (group) group.push(item)
      else groups.set(k, [item])
    }
    return groups
  }
}

const objectCtor = Object as unknown as {
  groupBy?: <T>(items: Iterable<T>, key: (item: T, index: number) => PropertyKey) => Record<PropertyKey, T[]>
}
if (typeof objectCtor.groupBy !== 'function') {
  objectCtor.groupBy = (items, key) => {
    const groups = Object.create(null) as Record<PropertyKey, unknown[]>
    let index = 0
    for (const item of items) (groups[key(item, index++)] ??= []).push(item)
    return groups as never
  }
}

const promiseCtor = Promise as unknown as { withResolvers?: () => unknown }
if (typeof promiseCtor.withResolvers !== 'function') {
  promiseCtor.withResolvers = () => {
    let resolve!: (value: unknown) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

export {}
