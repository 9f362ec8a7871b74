// The only host globals the pure layers may use. Both exist in every browser context and in
// Node; declaring just these keeps the pure tsconfig free of the DOM lib.
declare function queueMicrotask(callback: () => void): void
declare function structuredClone<T>(value: T): T
