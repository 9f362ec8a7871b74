/**
 * `warren/compression`: Kombu's `kombu.compression`. `gzip` and `deflate` are built in (the
 * platform's CompressionStream) and load on the first compressed message; register others here.
 */
export { registerCompression, unregisterCompression, getCompression } from './client/compression.js'
export type { Compressor } from './client/compression.js'
