/**
 * The serializer registry (Kombu's `kombu.serialization`). A serializer turns an application
 * value into a wire body plus `contentType`/`contentEncoding`, and back. Consumers find the
 * decoder by content type, so every registered content type must be unique.
 */
import type { Body } from '../protocol/frames.js'
import {
  ContentDisallowedError,
  DecodeError,
  EncodeError,
  SerializerNotInstalledError,
  WarrenError,
} from './errors.js'

export interface Serializer {
  readonly contentType: string
  readonly contentEncoding: string
  encode(value: unknown): Body
  decode(body: Body): unknown
}

let defaultName = 'json'

export const registerSerializer = (name: string, serializer: Serializer): void => {
  const previous = byName.get(name)
  if (previous) byContentType.delete(previous.contentType)
  byName.set(name, serializer)
  byContentType.set(serializer.contentType, serializer)
}

export const unregisterSerializer = (name: string): void => {
  const previous = byName.get(name)
  if (!previous) throw new SerializerNotInstalledError(`no serializer named '${name}'`)
  byName.delete(name)
  byContentType.delete(previous.contentType)
}

export const getSerializer = (name: string): Serializer => {
  const serializer = byName.get(name)
  if (!serializer) throw new SerializerNotInstalledError(`no serializer named '${name}'`)
  return serializer
}

/** The serializer used when a publish names none (Kombu's default is json too). */
export const setDefaultSerializer = (name: string): void => {
  getSerializer(name)
  defaultName = name
}

export const getDefaultSerializer = (): string => defaultName

// ---------------------------------------------------------------- helpers

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

export const toBytes = (body: Body): Uint8Array | undefined => {
  if (body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  return undefined
}

/** Text out of a wire body: strings as they are, bytes decoded as UTF-8. */
export const toText = (body: Body): string => {
  if (typeof body === 'string') return body
  const bytes = toBytes(body)
  if (!bytes) throw new DecodeError(`expected a string or bytes body, got ${typeof body}`)
  return utf8Decoder.decode(bytes)
}

export const utf8 = (text: string): Uint8Array => utf8Encoder.encode(text)

// ---------------------------------------------------------------- built-ins

const json: Serializer = {
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  encode: (value) => {
    const text = JSON.stringify(value)
    if (text === undefined) throw new EncodeError(`cannot encode ${typeof value} as JSON`)
    return text
  },
  decode: (body) => JSON.parse(toText(body)),
}

/** Bodies pass through the link's structured clone as they are: Dates, Maps, typed arrays. */
const structured: Serializer = {
  contentType: 'application/x-structured-clone',
  contentEncoding: 'binary',
  encode: (value) => value,
  decode: (body) => body,
}

const text: Serializer = {
  contentType: 'text/plain',
  contentEncoding: 'utf-8',
  encode: (value) => {
    if (typeof value !== 'string') throw new EncodeError(`the text serializer needs a string, got ${typeof value}`)
    return value
  },
  decode: toText,
}

const binary: Serializer = {
  contentType: 'application/octet-stream',
  contentEncoding: 'binary',
  encode: (value) => {
    const bytes = toBytes(value)
    if (!bytes) throw new EncodeError(`the binary serializer needs bytes, got ${typeof value}`)
    return bytes
  },
  decode: (body) => {
    if (typeof body === 'string') return utf8(body)
    const bytes = toBytes(body)
    if (!bytes) throw new DecodeError(`expected a bytes body, got ${typeof body}`)
    return bytes
  },
}

// The built-ins are the registry's first entries, not registrations run at import time.
const BUILTIN: Array<[string, Serializer]> = [['json', json], ['structured', structured], ['text', text], ['binary', binary]]
const byName = new Map<string, Serializer>(BUILTIN)
const byContentType = new Map<string, Serializer>(BUILTIN.map(([, serializer]) => [serializer.contentType, serializer]))

// ---------------------------------------------------------------- encode / decode

export interface Encoded {
  body: Body
  contentType: string
  contentEncoding: string
}

export interface EncodeOptions {
  serializer?: string | undefined
  contentType?: string | undefined
  contentEncoding?: string | undefined
}

/**
 * Kombu's `_prepare`: an explicit `contentType` means the body is already encoded and passes
 * as it is; otherwise the named (or default) serializer encodes it, strings included.
 */
export const encode = (value: unknown, options: EncodeOptions = {}): Encoded => {
  if (options.contentType) {
    const contentEncoding = options.contentEncoding ?? (typeof value === 'string' ? 'utf-8' : 'binary')
    return { body: value, contentType: options.contentType, contentEncoding }
  }
  const serializer = getSerializer(options.serializer ?? defaultName)
  try {
    return { body: serializer.encode(value), contentType: serializer.contentType, contentEncoding: serializer.contentEncoding }
  } catch (error) {
    if (error instanceof WarrenError) throw error
    throw new EncodeError(`could not encode the body: ${(error as Error)?.message ?? error}`, { cause: error })
  }
}

/** Turns serializer names in an accept list into content types. */
export const resolveAccept = (accept: Iterable<string> | undefined): ReadonlySet<string> | undefined => {
  if (!accept) return undefined
  const types = new Set<string>()
  for (const entry of accept) types.add(byName.get(entry)?.contentType ?? entry)
  return types
}

export const checkAccepted = (contentType: string | undefined, accept: ReadonlySet<string> | undefined): void => {
  if (!accept) return
  if (!accept.has(contentType ?? '')) {
    throw new ContentDisallowedError(`refusing content type '${contentType ?? '(none)'}': not in the accept list`)
  }
}

/**
 * Decodes a wire body by its content type. A body with no or an unknown content type comes
 * back as it is (Kombu does the same), unless an accept list refuses it.
 */
export const decode = (body: Body, contentType: string | undefined, accept?: ReadonlySet<string>): unknown => {
  checkAccepted(contentType, accept)
  const serializer = contentType ? byContentType.get(contentType) : undefined
  if (!serializer) return body
  try {
    return serializer.decode(body)
  } catch (error) {
    if (error instanceof DecodeError) throw error
    throw new DecodeError(`could not decode a '${contentType}' body: ${(error as Error)?.message ?? error}`, { cause: error })
  }
}

// ---------------------------------------------------------------- compression

/** The compressor for `name` (a name or a content type); the codecs load on first use. */
const compressor = async (name: string) => {
  const found = (await import('./compressors.js')).findCompressor(name)
  if (!found) throw new SerializerNotInstalledError(`no compression named '${name}'`)
  return found
}

/** Compresses an encoded body; returns the bytes and the `compression` header's value. */
export const compress = async (body: Body, name: string): Promise<{ body: Uint8Array; header: string }> => {
  const codec = await compressor(name)
  const bytes = typeof body === 'string' ? utf8(body) : toBytes(body)
  if (!bytes) throw new EncodeError(`cannot compress a ${typeof body} body: use a text, json or binary serializer`)
  return { body: await codec.compress(bytes), header: codec.contentType }
}

export const decompress = async (body: Body, contentType: string): Promise<Uint8Array> => {
  const codec = await compressor(contentType)
  const bytes = toBytes(body)
  if (!bytes) throw new EncodeError(`a compressed body must be bytes, got ${typeof body}`)
  return codec.decompress(bytes)
}
