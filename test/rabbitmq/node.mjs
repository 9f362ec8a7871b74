// A private RabbitMQ node for the tests: all state in a temp dir, every listener on loopback
// (AMQP, Web-STOMP, management, Erlang distribution, and an epmd of its own on a free port),
// never the system service. Started with `rabbitmq-server` as a child of ours, awaited with
// `rabbitmqctl await_startup`, stopped by its pid (SIGTERM to its process group), and its
// epmd by pid.
//
//   node test/rabbitmq/node.mjs        starts one, prints its URLs, stops it on Ctrl-C
//
// Also imported by the vitest global setup (test/rabbitmq/global-setup.ts).
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Where Debian's package keeps the scripts that honour RABBITMQ_* variables (the ones on PATH re-exec as the rabbitmq user). */
const SCRIPTS = process.env.RABBITMQ_SCRIPTS_BIN ?? '/usr/lib/rabbitmq/bin'

/** Whether rabbitmq-server is installed here. */
export const rabbitmqInstalled = () => existsSync(join(SCRIPTS, 'rabbitmq-server'))

/** A TCP port nobody listens on right now (127.0.0.1). */
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts a private node. Returns its URLs, `info` (plain data for `control()` in other
 * processes), the controls, and `stop()` (idempotent).
 */
export async function startRabbitmq({ log = () => {} } = {}) {
  if (!rabbitmqInstalled()) throw new Error(`rabbitmq-server not found in ${SCRIPTS} (apt-get install rabbitmq-server)`)
  const base = await mkdtemp(join(tmpdir(), 'warren-rabbitmq-'))
  const [amqp, stomp, management, dist, epmd, stompTcp] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()])
  const nodename = `warren${process.pid}@localhost`
  await mkdir(join(base, 'home'))
  await writeFile(join(base, 'rabbitmq.conf'), [
    `listeners.tcp.default = 127.0.0.1:${amqp}`,
    // web_stomp brings the plain STOMP plugin, which would listen on every interface at 61613.
    `stomp.listeners.tcp.1 = 127.0.0.1:${stompTcp}`,
    'web_stomp.tcp.ip = 127.0.0.1',
    `web_stomp.tcp.port = ${stomp}`,
    'management.tcp.ip = 127.0.0.1',
    `management.tcp.port = ${management}`,
    // guest may log in from loopback only, which is where the tests are.
    'loopback_users.guest = true',
    // Oversized-frame tests: a small limit makes one cheap to send.
    'web_stomp.ws_opts.max_frame_size = 1048576',
    // Queue figures in the management API refresh this often (default 5 s): tests poll them.
    'collect_statistics_interval = 250',
    'log.console = false',
    'log.file.level = warning',
    '',
  ].join('\n'))
  await writeFile(join(base, 'enabled_plugins'), '[rabbitmq_web_stomp,rabbitmq_management].\n')
  const pidFile = join(base, 'rabbitmq.pid')
  const env = {
    ...process.env,
    HOME: join(base, 'home'),
    RABBITMQ_NODENAME: nodename,
    RABBITMQ_MNESIA_BASE: join(base, 'mnesia'),
    RABBITMQ_LOG_BASE: join(base, 'log'),
    RABBITMQ_PID_FILE: pidFile,
    RABBITMQ_CONFIG_FILE: join(base, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(base, 'enabled_plugins'),
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmd),
  }
  // What rabbitmqctl needs to reach the node: the cookie (HOME) and our epmd.
  const ctlEnv = { HOME: env.HOME, ERL_EPMD_PORT: env.ERL_EPMD_PORT, ERL_EPMD_ADDRESS: env.ERL_EPMD_ADDRESS, RABBITMQ_CTL_ERL_ARGS: env.RABBITMQ_CTL_ERL_ARGS }
  const { ctl } = control({ nodename, ctlEnv })

  // Our own epmd (on its own port), so we can end exactly it by pid.
  const epmdProcess = spawn('epmd', ['-port', String(epmd)], { env, stdio: 'ignore', detached: true })
  epmdProcess.unref()

  let stopped = false
  // By pid, not rabbitmqctl: a CLI's Erlang VM boot can outlast vitest's teardown timeout on a
  // loaded machine. RabbitMQ shuts down cleanly on SIGTERM; the process group has the node.
  const stop = async () => {
    if (stopped) return
    stopped = true
    const signal = (name) => {
      try {
        process.kill(-server.pid, name)
      } catch {}
    }
    if (server.pid && !exited) {
      signal('SIGTERM')
      let timer
      const outcome = await Promise.race([
        new Promise((resolve) => server.once('exit', () => resolve('gone'))),
        new Promise((resolve) => { timer = setTimeout(() => resolve('late'), 30_000) }),
      ])
      clearTimeout(timer)
      if (outcome !== 'gone') signal('SIGKILL')
    }
    if (epmdProcess.pid) try { process.kill(epmdProcess.pid, 'SIGTERM') } catch {}
    await rm(base, { recursive: true, force: true })
  }

  // In the foreground as our child (its own process group), so we know it is alive while we
  // wait: await_startup fails at once until the node has registered with epmd.
  const server = spawn(join(SCRIPTS, 'rabbitmq-server'), [], { env, stdio: 'ignore', detached: true })
  server.unref()
  let exited = false
  server.on('exit', () => { exited = true })
  try {
    const started = Date.now()
    for (;;) {
      if (exited) throw new Error('rabbitmq-server exited during startup')
      if (Date.now() - started > 120_000) throw new Error('rabbitmq-server did not start within 120 s')
      try {
        await ctl('await_startup', '--timeout', '90')
        break
      } catch (error) {
        if (!/not running|nodedown|unable to perform/i.test(String(error.message))) throw error
        await new Promise((resolve) => setTimeout(resolve, 250)) // the node is still booting
      }
    }
    log(`rabbitmq ${nodename} up in ${Date.now() - started} ms (state in ${base})`)
  } catch (error) {
    const logs = await readFile(join(base, 'log', `${nodename}.log`), 'utf8').catch(() => '')
    await stop()
    throw new Error(`the private RabbitMQ node did not start: ${error.message}\n${logs.slice(-4000)}`)
  }

  const info = { nodename, amqpPort: amqp, stompUrl: `ws://127.0.0.1:${stomp}/ws`, managementUrl: `http://127.0.0.1:${management}`, ctlEnv }
  return { ...info, info, ...control(info), stop }
}

/**
 * What a test process needs to drive the node (`info` is plain data: vitest's provide/inject
 * carries it from the global setup into test workers).
 */
export function control({ nodename, ctlEnv }) {
  const ctl = (...args) => run(join(SCRIPTS, 'rabbitmqctl'), ['-n', nodename, ...args], { env: { ...process.env, ...ctlEnv }, timeout: 120_000 })
  return {
    ctl,
    /** Stops the RabbitMQ application: every connection drops and new ones are refused until `startApp()`. */
    stopApp: () => ctl('stop_app'),
    /** Starts it again; durable queues and their persistent messages are back. */
    async startApp() {
      await ctl('start_app')
      await ctl('await_startup', '--timeout', '90')
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const node = await startRabbitmq({ log: console.log })
  console.log(JSON.stringify({ stompUrl: node.stompUrl, managementUrl: node.managementUrl, amqpPort: node.amqpPort }))
  const alive = setInterval(() => {}, 1 << 30) // the node and epmd are unref'd: keep this CLI up
  const end = async () => {
    clearInterval(alive)
    await node.stop()
    process.exit(0)
  }
  process.on('SIGINT', end)
  process.on('SIGTERM', end)
}
