/**
 * The compressors, by name and by content type: gzip and deflate built in (the platform's
 * CompressionStream), others registered through `warren/compression`. Loaded on the first
 * compressed message (most apps never compress), so it imports no value from the client core:
 * a lazy module sharing core modules would make bundlers split those out of the page's chunk.
 * The typed errors are thrown by the callers (compression.ts, serialization.ts).
 */

export interface Compressor {
  /** The value of the `compression` header, e.g. `application/x-gzip`. */
  readonly contentType: string
  compress(bytes: Uint8Array): Promise<Uint8Array>
  decompress(bytes: Uint8Array): Promise<Uint8Array>
}

/** Pipes bytes through a CompressionStream or DecompressionStream. */
const through = async (stream: TransformStream<BufferSource, Uint8Array>, bytes: Uint8Array): Promise<Uint8Array> => {
  const output = new Blob([bytes as BlobPart]).stream().pipeThrough(stream)
  return new Uint8Array(await new Response(output).arrayBuffer())
}

const streamCompressor = (format: 'gzip' | 'deflate', contentType: string): Compressor => ({
  contentType,
  compress: (bytes) => through(new CompressionStream(format), bytes),
  decompress: (bytes) => through(new DecompressionStream(format), bytes),
})

// The built-ins are the registry's first entries, not registrations run at import time.
const gzip = streamCompressor('gzip', 'application/x-gzip')
const deflate = streamCompressor('deflate', 'application/x-deflate')
const byName = new Map<string, Compressor>([['gzip', gzip], ['deflate', deflate]])
const byContentType = new Map<string, Compressor>([[gzip.contentType, gzip], [deflate.contentType, deflate]])

export const setCompressor = (name: string, compressor: Compressor): void => {
  const previous = byName.get(name)
  if (previous) byContentType.delete(previous.contentType)
  byName.set(name, compressor)
  byContentType.set(compressor.contentType, compressor)
}

/** Removes a compressor; false when there was none by that name. */
export const deleteCompressor = (name: string): boolean => {
  const previous = byName.get(name)
  if (!previous) return false
  byName.delete(name)
  byContentType.delete(previous.contentType)
  return true
}

/** The compressor named `name`, or whose content type is `name`. */
export const findCompressor = (name: string): Compressor | undefined => byName.get(name) ?? byContentType.get(name)
