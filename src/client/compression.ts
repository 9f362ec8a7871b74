/**
 * The compression registry (Kombu's `kombu.compression`). A compressed message carries the
 * header `compression` with the method's mime type and a Uint8Array body. The compressors
 * themselves live in compressors.ts (loaded lazily by the publish and delivery paths); the
 * body is compressed by `compress` in serialization.ts.
 */
import { deleteCompressor, findCompressor, setCompressor, type Compressor } from './compressors.js'
import { SerializerNotInstalledError } from './errors.js'

export type { Compressor }

export const registerCompression: (name: string, compressor: Compressor) => void = setCompressor

export const unregisterCompression = (name: string): void => {
  if (!deleteCompressor(name)) throw new SerializerNotInstalledError(`no compression named '${name}'`)
}

export const getCompression = (name: string): Compressor => {
  const compressor = findCompressor(name)
  if (!compressor) throw new SerializerNotInstalledError(`no compression named '${name}'`)
  return compressor
}
