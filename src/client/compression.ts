/**
 * The compression registry (Kombu's `kombu.compression`). A compressed message carries the
 * header `compression` with the method's mime type and a Uint8Array body.
 */
import type { Body } from '../protocol/frames.js'
import { EncodeError, SerializerNotInstalledError } from './errors.js'
import { toBytes, utf8 } from './serialization.js'

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

export const registerCompression = (name: string, compressor: Compressor): void => {
  const previous = byName.get(name)
  if (previous) byContentType.delete(previous.contentType)
  byName.set(name, compressor)
  byContentType.set(compressor.contentType, compressor)
}

export const unregisterCompression = (name: string): void => {
  const previous = byName.get(name)
  if (!previous) throw new SerializerNotInstalledError(`no compression named '${name}'`)
  byName.delete(name)
  byContentType.delete(previous.contentType)
}

export const getCompression = (name: string): Compressor => {
  const compressor = byName.get(name) ?? byContentType.get(name)
  if (!compressor) throw new SerializerNotInstalledError(`no compression named '${name}'`)
  return compressor
}

/** Compresses an encoded body; returns the bytes and the header value. */
export const compress = async (body: Body, name: string): Promise<{ body: Uint8Array; header: string }> => {
  const compressor = getCompression(name)
  const bytes = typeof body === 'string' ? utf8(body) : toBytes(body)
  if (!bytes) throw new EncodeError(`cannot compress a ${typeof body} body: use a text, json or binary serializer`)
  return { body: await compressor.compress(bytes), header: compressor.contentType }
}

export const decompress = async (body: Body, contentType: string): Promise<Uint8Array> => {
  const compressor = getCompression(contentType)
  const bytes = toBytes(body)
  if (!bytes) throw new EncodeError(`a compressed body must be bytes, got ${typeof body}`)
  return compressor.decompress(bytes)
}
