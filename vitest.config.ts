// Projects: 'node' (unit, plain Node); 'browser', 'browser-firefox', 'browser-webkit' (vitest
// browser mode in Debian's Chromium, Firefox ESR and WebKitGTK); 'e2e' and 'e2e-firefox' (Node
// driving real tabs through playwright-core), 'e2e-webkit' (multi-tab essentials over WebDriver).
import './test/node-compat.js'
import { availableParallelism } from 'node:os'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig, type TestProjectConfiguration } from 'vitest/config'
import { chromiumArgs, chromiumPath } from './test/chromium.js'
import { firefoxProvider, webkitgtkProvider } from './test/engines/providers.js'

// Node and Chromium browser files run together in group 1; then each other engine's browser files,
// then each engine's e2e files, one group at a time.
// Projects in one group must share maxWorkers. (Left at group 0 with one worker, Vitest
// would move node and browser into a catch-all group that runs after e2e.)
const workers = Math.max(2, availableParallelism() - 1)

// npm test runs every engine. WARREN_ENGINES=chromium is a developer's quick run: Chromium only
// (CI never sets it).
const allEngines = process.env.WARREN_ENGINES !== 'chromium'

/** The e2e project for one engine; each engine's files run after the previous engine's. */
function e2e(engine: 'chromium' | 'firefox', groupOrder: number) {
  return {
    test: {
      name: engine === 'chromium' ? 'e2e' : `e2e-${engine}`,
      environment: 'node',
      include: ['test/e2e/**/*.e2e.test.ts', 'test/reliability/**/*.e2e.test.ts'],
      // The starter test checks the packed package as a user installs it: that does not depend
      // on the engine, and packing and installing again would cost minutes.
      exclude: ['test/e2e/webkit/**', ...(engine === 'chromium' ? [] : ['test/e2e/starter/**'])],
      env: { WARREN_E2E_ENGINE: engine },
      // Each file launches its own browser; on two cores they must not overlap with
      // each other or with the browser projects.
      fileParallelism: false,
      sequence: { groupOrder },
      testTimeout: 60_000,
      hookTimeout: 120_000,
    },
  }
}

/** Firefox's and WebKitGTK's projects (all but WARREN_ENGINES=chromium). */
const otherEngines: TestProjectConfiguration[] = allEngines
  ? [
    {
      server: { host: '127.0.0.1' },
      test: {
        name: 'browser-firefox',
        include: ['test/**/*.browser.test.ts'],
        maxWorkers: workers,
        // Each engine's browser files run alone after the previous engine's: three browsers
        // and the node tests at once would share two cores.
        sequence: { groupOrder: 2 },
        browser: {
          enabled: true,
          headless: true,
          provider: firefoxProvider(),
          instances: [{ browser: 'firefox' }],
        },
      },
    },
    {
      server: { host: '127.0.0.1' },
      test: {
        name: 'browser-webkit',
        include: ['test/**/*.browser.test.ts'],
        maxWorkers: workers,
        sequence: { groupOrder: 3 },
        browser: {
          enabled: true,
          // MiniBrowser has no headless mode: it runs on a private Xvfb display.
          headless: false,
          provider: webkitgtkProvider(),
          instances: [{ browser: 'safari' }],
        },
      },
    },
    e2e('firefox', 5),
    {
      test: {
        name: 'e2e-webkit',
        environment: 'node',
        // The multi-tab essentials over classic WebDriver (no CDP, no BiDi in WebKitGTK).
        include: ['test/e2e/webkit/**/*.e2e.test.ts'],
        fileParallelism: false,
        sequence: { groupOrder: 6 },
        testTimeout: 60_000,
        hookTimeout: 120_000,
      },
    },
    ]
  : []

export default defineConfig({
  server: { host: '127.0.0.1' },
  test: {
    // Per-engine tallies for the README's support table (npm run support-table).
    reporters: ['default', './test/engines/support-reporter.ts'],
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.node.test.ts'],
          maxWorkers: workers,
          sequence: { groupOrder: 1 },
        },
      },
      {
        server: { host: '127.0.0.1' },
        test: {
          name: 'browser',
          include: ['test/**/*.browser.test.ts'],
          maxWorkers: workers,
          sequence: { groupOrder: 1 },
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath(), headless: true, args: chromiumArgs },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      e2e('chromium', 4),
      {
        // [remote] Real tabs against a private RabbitMQ node the global setup starts (issue #13).
        test: {
          name: 'e2e-remote',
          environment: 'node',
          include: ['test/remote/**/*.e2e.test.ts'],
          globalSetup: ['test/rabbitmq/global-setup.ts'],
          env: { WARREN_E2E_ENGINE: 'chromium' },
          fileParallelism: false,
          sequence: { groupOrder: 7 },
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      ...otherEngines,
    ],
  },
})
