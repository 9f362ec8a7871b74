// The published package, as a user gets it, for the tests that need it (pack, README, starter):
// build with the real `npm run build` in a staged copy of the repo (so the working tree's dist/
// is never touched), `npm pack`, and install the tarball into scratch projects. No registry:
// the packages a scratch project needs besides Warren are linked from the repo's install.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const REPO = fileURLToPath(new URL('../../', import.meta.url))
const exec = promisify(execFile)

/** The repo's own tools, by path: npx from a scratch folder would look them up in the registry. */
export const bin = (name: string) => join(REPO, 'node_modules', '.bin', name)

/** Runs a command; on failure the error carries its whole output. */
export async function run(command: string, args: string[], cwd: string, options: { timeout?: number } = {}): Promise<string> {
  try {
    const { stdout, stderr } = await exec(command, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      timeout: options.timeout ?? 0,
      // A user's shell, not the test runner's: vitest's NODE_ENV=test would make `vite build` a dev build.
      env: { ...process.env, NODE_ENV: undefined, FORCE_COLOR: '0', NO_COLOR: '1' },
    })
    return `${stdout}${stderr}`
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}\n${e.message}`)
  }
}

export interface Packed {
  tarball: string
  /** Paths inside the tarball, sorted. */
  files: string[]
}

/** Builds and packs the repo into `tmp`; returns the tarball. */
export async function packWarren(tmp: string): Promise<Packed> {
  const stage = join(tmp, 'stage')
  await mkdir(stage)
  for (const name of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'vite.config.ts', 'src']) {
    if (existsSync(join(REPO, name))) await cp(join(REPO, name), join(stage, name), { recursive: true })
  }
  await symlink(join(REPO, 'node_modules'), join(stage, 'node_modules'), 'dir')
  await run('npm', ['run', 'build'], stage)
  const out = await run('npm', ['pack', '--json', '--silent', '--pack-destination', tmp], stage)
  const packed = JSON.parse(out.slice(out.indexOf('['), out.lastIndexOf(']') + 1)) as Array<{ filename: string; files: Array<{ path: string }> }>
  return { tarball: join(tmp, packed[0]!.filename), files: packed[0]!.files.map((f) => f.path).sort() }
}

/**
 * Makes `app` a project with Warren installed from `tarball` (extracted, as npm would) and
 * `links` (e.g. 'vite', 'typescript', '@types/node') plus Warren's runtime dependencies linked
 * from the repo. Writes `packageJson` unless the folder already has one.
 */
export async function installWarren(app: string, tarball: string, links: string[] = [], packageJson: object = { name: 'app', private: true, type: 'module' }): Promise<void> {
  const modules = join(app, 'node_modules')
  await mkdir(join(modules, 'warren'), { recursive: true })
  if (!existsSync(join(app, 'package.json'))) await writeFile(join(app, 'package.json'), JSON.stringify(packageJson))
  await run('tar', ['-xzf', tarball, '-C', join(modules, 'warren'), '--strip-components=1'], app)
  // Every runtime dependency the package declares (as npm would install them), plus the links.
  const { dependencies = {} } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }
  for (const dep of [...Object.keys(dependencies), ...links]) {
    await mkdir(join(modules, dep, '..'), { recursive: true })
    await symlink(join(REPO, 'node_modules', dep), join(modules, dep), 'dir')
  }
  if (links.length) {
    await mkdir(join(modules, '.bin'), { recursive: true })
    for (const tool of ['vite', 'tsc']) {
      if (existsSync(bin(tool))) await symlink(bin(tool), join(modules, '.bin', tool))
    }
  }
}
