/**
 * The page around each tutorial: a Run button, the log, and `window.example.run()` for tests.
 * The tutorial's own code is in the file next to index.html; this only wires it to the page.
 */
import type { Connection } from '../warren.js'
import { connect } from './connect.js'
import type { Log } from './log.js'

export type Tutorial = (conn: Connection, log: Log) => Promise<unknown>

declare global {
  interface Window {
    example: { run(): Promise<{ lines: string[]; result: unknown }> }
  }
}

export function tutorialPage(name: string, tutorial: Tutorial): void {
  const output = document.querySelector<HTMLElement>('#log')!
  const button = document.querySelector<HTMLButtonElement>('#run')!
  const state = document.querySelector<HTMLElement>('#state')!
  let conn: Promise<Connection> | undefined

  const run = async () => {
    button.disabled = true
    output.textContent = ''
    state.textContent = 'running…'
    state.className = 'state running'
    const lines: string[] = []
    const log: Log = (line) => {
      lines.push(line)
      const row = document.createElement('div')
      row.textContent = line
      if (/Received|Got|\] [a-z]+:|\[(receiver|disk|screen|all|kernel|critical)/.test(line)) row.className = 'in'
      else if (/\[x\] (Sent|Requesting)/.test(line)) row.className = 'out'
      output.append(row)
    }
    try {
      conn ??= connect(`tutorial: ${name}`)
      const result = await tutorial(await conn, log)
      state.textContent = 'done'
      state.className = 'state done'
      return { lines, result }
    } catch (error) {
      log(`error: ${(error as Error)?.message ?? error}`)
      state.textContent = 'failed'
      state.className = 'state failed'
      throw error
    } finally {
      button.disabled = false
    }
  }
  button.addEventListener('click', () => void run().catch(() => {}))
  window.example = { run }
}
