export { IndexedDBStorage, type IndexedDBStorageOptions } from './storage.js'
export { SCHEMA_VERSION } from './schema.js'
