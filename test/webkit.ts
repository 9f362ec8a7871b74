// WebKitGTK for tests: Debian's `webkit2gtk-driver` (WebKitWebDriver) driving MiniBrowser,
// which has no headless mode, so it gets a private Xvfb display. Classic WebDriver only: the
// driver speaks no BiDi and rejects `browserName: 'safari'`.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export function webkitDriverPath(): string {
  return process.env.WEBKIT_DRIVER_PATH || '/usr/bin/WebKitWebDriver'
}

export function miniBrowserPath(): string {
  return process.env.MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'
}

/** WebDriver capabilities for a MiniBrowser session (extra MiniBrowser switches optional). */
export function miniBrowserCapabilities(args: string[] = []): WebdriverIO.Capabilities {
  return {
    browserName: 'MiniBrowser',
    'wdio:enforceWebDriverClassic': true,
    'webkitgtk:browserOptions': { binary: miniBrowserPath(), args: ['--automation', ...args] },
  } as WebdriverIO.Capabilities
}

/**
 * Capabilities for a session of test/webkit-browser.py: WebKitGTK like MiniBrowser, but keeping
 * its website data in `profileDir`, so that data outlives the session (MiniBrowser's automation
 * sessions are ephemeral). Ending the session and starting another on the same folder is a
 * browser restart.
 */
export function persistentBrowserCapabilities(profileDir: string): WebdriverIO.Capabilities {
  return {
    // The driver matches this against the name the browser gives itself.
    browserName: 'warren-webkit',
    'wdio:enforceWebDriverClassic': true,
    'webkitgtk:browserOptions': {
      binary: fileURLToPath(new URL('./webkit-browser.py', import.meta.url)),
      args: ['--automation', `--profile=${profileDir}`],
    },
  } as WebdriverIO.Capabilities
}

export interface WebKitDriver {
  readonly hostname: string
  readonly port: number
  stop(): Promise<void>
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await exited
}

/** Starts Xvfb on a display it picks itself (-displayfd), so parallel runs never collide. */
async function startXvfb(): Promise<{ display: string; process: ChildProcess }> {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  xvfb.stderr!.on('data', (chunk) => { stderr += chunk })
  const display = await new Promise<string>((resolve, reject) => {
    let out = ''
    const fd3 = xvfb.stdio[3] as NodeJS.ReadableStream
    fd3.on('data', (chunk) => {
      out += chunk
      if (out.includes('\n')) resolve(`:${out.trim()}`)
    })
    xvfb.once('error', reject)
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before reporting a display: ${stderr}`)))
  })
  return { display, process: xvfb }
}

/** A free loopback port (the driver takes no port 0). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as { port: number }
  await new Promise((closed) => server.close(closed))
  return port
}

/** Waits until the driver answers `GET /status` (it listens a moment after it starts). */
async function driverReady(url: string, driver: ChildProcess, log: () => string): Promise<void> {
  for (;;) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driver.exitCode}): ${log()}`)
    try {
      const response = await fetch(`${url}/status`)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((next) => setTimeout(next, 50))
  }
}

/** Xvfb plus WebKitWebDriver on loopback; `stop()` ends both. */
export async function startWebKitDriver(): Promise<WebKitDriver> {
  const xvfb = await startXvfb()
  let driver: ChildProcess | undefined
  try {
    const port = await freePort()
    driver = spawn(webkitDriverPath(), [`--port=${port}`, '--host=local'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DISPLAY: xvfb.display, WEBKIT_DISABLE_COMPOSITING_MODE: '1' },
    })
    let log = ''
    driver.stdout!.on('data', (chunk) => { log += chunk })
    driver.stderr!.on('data', (chunk) => { log += chunk })
    await driverReady(`http://127.0.0.1:${port}`, driver, () => log)
    const running = driver
    return {
      hostname: '127.0.0.1',
      port,
      async stop() {
        await stopProcess(running)
        await stopProcess(xvfb.process)
      },
    }
  } catch (error) {
    if (driver) await stopProcess(driver)
    await stopProcess(xvfb.process)
    throw error
  }
}
