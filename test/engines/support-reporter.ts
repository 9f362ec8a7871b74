// A vitest reporter that records, per project (so per engine), how many test files and tests
// passed, failed or were skipped, with the engine versions, in test-results/engines.json. A run
// of some projects replaces those projects' entries and keeps the others (each entry says when
// it ran). `npm run support-table` turns that into the README's support table.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import type { Reporter, TestModule } from 'vitest/node'
import { chromiumPath } from '../chromium.js'
import { firefoxPath } from '../firefox.js'

export interface ProjectTally {
  ranAt: string
  files: { passed: number; failed: number }
  tests: { passed: number; failed: number; skipped: number }
}

export interface EngineRun {
  finishedAt: string
  versions: Record<string, string>
  projects: Record<string, ProjectTally>
}

function version(run: () => string): string {
  try {
    return run().trim()
  } catch {
    return 'not installed'
  }
}

export const OUTPUT = 'test-results/engines.json'

export default class SupportReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const ranAt = new Date().toISOString()
    const previous = existsSync(OUTPUT) ? (JSON.parse(readFileSync(OUTPUT, 'utf8')) as EngineRun).projects : {}
    const projects: Record<string, ProjectTally> = {}
    for (const module of modules) {
      // A browser instance's project is named 'browser-firefox (firefox)': keep the project's name.
      const name = module.project.name.replace(/ \(.*\)$/, '')
      const tally = (projects[name] ??= { ranAt, files: { passed: 0, failed: 0 }, tests: { passed: 0, failed: 0, skipped: 0 } })
      let failed = module.state() === 'failed'
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') tally.tests.passed++
        else if (state === 'failed') (tally.tests.failed++, (failed = true))
        else tally.tests.skipped++
      }
      if (failed) tally.files.failed++
      else tally.files.passed++
    }
    const run: EngineRun = {
      finishedAt: ranAt,
      versions: {
        chromium: version(() => execFileSync(chromiumPath(), ['--version'], { encoding: 'utf8' })),
        firefox: version(() => execFileSync(firefoxPath(), ['--version'], { encoding: 'utf8' })),
        webkitgtk: version(() => `WebKitGTK ${execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libwebkit2gtk-4.1-0'], { encoding: 'utf8' })}`),
      },
      projects: { ...previous, ...projects },
    }
    mkdirSync('test-results', { recursive: true })
    writeFileSync(OUTPUT, `${JSON.stringify(run, null, 2)}\n`)
  }
}
