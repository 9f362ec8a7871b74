// Placeholder for the `warren` entry; the composition root lands here.
export { PROTOCOL_VERSION } from './protocol/version.js'
