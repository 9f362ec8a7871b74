/** Maps what IndexedDB throws or aborts with to a StorageFailure with a stable reason. */
import { StorageFailure } from '../types.js'

export function toStorageFailure(err: unknown): StorageFailure {
  if (err instanceof StorageFailure) return err
  const name = (err as { name?: unknown } | null)?.name
  const detail = (err as { message?: unknown } | null)?.message
  const text = typeof detail === 'string' && detail !== '' ? `: ${detail}` : ''
  switch (name) {
    case 'QuotaExceededError':
      return new StorageFailure('quota', `storage quota exceeded${text}`, { cause: err })
    case 'AbortError':
      return new StorageFailure('aborted', `transaction aborted${text}`, { cause: err })
    case 'InvalidStateError':
    case 'TransactionInactiveError':
    case 'VersionError':
      return new StorageFailure('closed', `database closed or unusable${text}`, { cause: err })
    default:
      return new StorageFailure('unknown', `storage error${name ? ` (${String(name)})` : ''}${text}`, { cause: err })
  }
}

/** True for errors a caller's own data caused (bad key, value that can't be cloned). */
export function isDataError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name
  return name === 'DataError' || name === 'DataCloneError' || err instanceof TypeError
}
