/**
 * Connection, Channel, Consumer and SimpleQueue are AsyncDisposable (`await using`). Apps whose
 * `lib` lacks ESNext.Disposable (Vite's template: ES2023 + DOM) would fail on these names in
 * Warren's declarations, so they are declared here too, as @types/node does; the declarations
 * merge with the lib's when it has them.
 */
declare global {
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol
  }
  interface AsyncDisposable {
    [Symbol.asyncDispose](): PromiseLike<void>
  }
}

export {}
