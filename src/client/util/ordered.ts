/**
 * Keeps deliveries in order when some messages need an asynchronous step first
 * (decompression): synchronous ones go straight through unless an earlier one is pending.
 */
export const ordered = <M>(handle: (message: M) => void, onError: (error: unknown) => void): ((message: M | Promise<M>) => void) => {
  let tail: Promise<void> | undefined
  return (message) => {
    if (!tail && !(message instanceof Promise)) return handle(message)
    const next: Promise<void> = (tail ?? Promise.resolve())
      .then(() => message)
      .then(handle)
      .catch(onError)
      .finally(() => {
        if (tail === next) tail = undefined
      })
    tail = next
  }
}
