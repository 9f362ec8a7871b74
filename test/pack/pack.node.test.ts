// The published package, as a user gets it: build with the real `npm run build` in a staged
// copy of the repo (so the working tree's dist/ is never touched), `npm pack`, lint the tarball
// with publint and attw (ESM-only profile), then install it into a scratch project and import
// every entry in a plain Node process.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const exec = promisify(execFile)

// The repo's own tools, by path: npx from a scratch folder would look them up in the registry.
const bin = (name: string) => join(REPO, 'node_modules', '.bin', name)
const isPlaceholder = (path: string) => /^\/\/ Placeholder/.test(readFileSync(join(REPO, path), 'utf8'))

/** Runs a command; on failure the error carries its whole output. */
async function run(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await exec(command, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    })
    return `${stdout}${stderr}`
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}\n${e.message}`)
  }
}

describe('npm package', { timeout: 120_000 }, () => {
  let tmp: string
  let tarball: string
  let files: string[] = []

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'warren-pack-'))
    const stage = join(tmp, 'stage')
    await mkdir(stage)
    for (const name of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'vite.config.ts', 'src']) {
      if (existsSync(join(REPO, name))) await cp(join(REPO, name), join(stage, name), { recursive: true })
    }
    await symlink(join(REPO, 'node_modules'), join(stage, 'node_modules'), 'dir')
    await run('npm', ['run', 'build'], stage)
    const packed = JSON.parse(await run('npm', ['pack', '--json', '--silent', '--pack-destination', tmp], stage)
      .then((out) => out.slice(out.indexOf('['), out.lastIndexOf(']') + 1))) as Array<{ filename: string; files: Array<{ path: string }> }>
    tarball = join(tmp, packed[0]!.filename)
    files = packed[0]!.files.map((f) => f.path).sort()
  }, 120_000)

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it('ships the four entries with their declarations and no sources or tests', () => {
    for (const file of ['dist/warren.js', 'dist/worker.js', 'dist/testing.js', 'dist/console.js', 'dist/types/index.d.ts',
      'dist/types/worker.d.ts', 'dist/types/testing/index.d.ts', 'dist/types/console/index.d.ts', 'package.json']) {
      expect(files, file).toContain(file)
    }
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([])
  })

  it('passes publint', async () => {
    const out = await run(bin('publint'), ['run', tarball, '--strict'], tmp)
    expect(out).not.toMatch(/error|warning/i)
  })

  it('passes attw (ESM-only profile)', async () => {
    // Exit code 0 is the verdict; the table is printed on failure through run()'s error.
    await run(bin('attw'), [tarball, '--profile', 'esm-only', '--no-definitely-typed', '--format', 'ascii'], tmp)
  })

  it('installs into a fresh project and every entry loads in Node', async () => {
    const app = join(tmp, 'app')
    const modules = join(app, 'node_modules')
    await mkdir(join(modules, 'warren'), { recursive: true })
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    await run('tar', ['-xzf', tarball, '-C', join(modules, 'warren'), '--strip-components=1'], tmp)
    // The runtime dependencies come from the repo's install: no registry needed here.
    for (const dep of ['idb', 'comlink']) await symlink(join(REPO, 'node_modules', dep), join(modules, dep), 'dir')

    const probe = [
      "const main = await import('warren')",
      "const testing = await import('warren/testing')",
      "const worker = import.meta.resolve('warren/worker')",
      "import.meta.resolve('warren/console')",
      'console.log(JSON.stringify({ main: Object.keys(main).sort(), testing: Object.keys(testing).sort(), worker }))',
    ].join('\n')
    await writeFile(join(app, 'probe.mjs'), probe)
    const out = await run(process.execPath, ['probe.mjs'], app)
    const loaded = JSON.parse(out.trim().split('\n').pop()!) as { main: string[]; testing: string[]; worker: string }

    // The package exports exactly what the source entries export.
    const srcMain = Object.keys(await import('../../src/index.js')).sort()
    const srcTesting = Object.keys(await import('../../src/testing/index.js')).sort()
    expect(loaded.main).toEqual(srcMain)
    expect(loaded.testing).toEqual(srcTesting)
    expect(loaded.worker).toMatch(/node_modules\/warren\/dist\/worker\.js$/)
    // Once an entry is real (no longer the placeholder), its main noun must be there.
    if (!isPlaceholder('src/index.ts')) expect(loaded.main).toContain('Connection')
    if (!isPlaceholder('src/testing/index.ts')) expect(loaded.testing).toContain('FakeClock')
  })

  it("runs the README's quick start, verbatim, against the packed package", async () => {
    // The block after the <!-- quickstart --> marker is what a user pastes into quickstart.mjs.
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
    const block = /<!-- quickstart -->\s*```js\n([\s\S]*?)```/.exec(readme)
    expect(block, 'README has a quick start block').not.toBeNull()
    const app = join(tmp, 'app')
    await writeFile(join(app, 'quickstart.mjs'), block![1]!)
    const out = await run(process.execPath, ['quickstart.mjs'], app)
    expect(out).toContain("got { name: 'a.avi', size: 1 } redelivered: false")
  })
})
