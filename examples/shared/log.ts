/** Where an example writes what happens: the page shows it, a test collects it. */
export type Log = (line: string) => void

/** Resolves after `ms` milliseconds (the tutorials' "work" is a pause). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A promise with its resolve function outside (Promise.withResolvers, for Node 20). */
export function defer<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
