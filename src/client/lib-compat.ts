/**
 * Global types Warren's declarations name that an app's `lib` may lack. Each merges with the
 * lib's own declaration when the lib has it, as @types/node does for the disposables.
 */
declare global {
  // Connection, Channel, Consumer and SimpleQueue are AsyncDisposable (`await using`); Vite's
  // template has ES2023 + DOM, without ESNext.Disposable.
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol
  }
  interface AsyncDisposable {
    [Symbol.asyncDispose](): PromiseLike<void>
  }
  // `useSharedWorker`'s factory returns one; a worker's lib (WebWorker) has no SharedWorker,
  // and a service worker or dedicated worker never starts one.
  interface SharedWorker {}
}

export {}
