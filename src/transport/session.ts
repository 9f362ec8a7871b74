/**
 * Session ids: 128 random bits from `crypto.getRandomValues`, as 32 hex digits. A session id
 * is the only proof that a batch or a goodbye comes from the context the broker welcomed; it
 * travels only to that context (its own channel or port) and in its own batches.
 */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let id = ''
  for (const byte of bytes) id += byte.toString(16).padStart(2, '0')
  return id
}
