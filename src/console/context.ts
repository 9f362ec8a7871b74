/** What every view of the console gets: the current API client, the latest overview, and a way to act. */
import type { ManagementClient } from '../client/management.js'
import type { Overview } from '../protocol/management.js'

export interface ConsoleContext {
  /** The current management client (undefined while connecting). */
  management(): ManagementClient | undefined
  overview(): Overview | undefined
  /**
   * Runs an action: shows `success(result)` or the error as a toast, and refreshes the
   * overview at once so its effect shows without waiting for the next poll.
   */
  act<T>(fn: (management: ManagementClient) => Promise<T>, success: (result: T) => string): Promise<T | undefined>
  notify(message: string, kind?: 'ok' | 'error'): void
}

/** A part of the console that redraws from each overview. */
export interface View {
  readonly el: HTMLElement
  update(overview: Overview): void
}
