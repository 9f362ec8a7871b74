// Projects: 'node' (unit, plain Node); 'browser', 'browser-firefox', 'browser-webkit' (vitest
// browser mode in Debian's Chromium, Firefox ESR and WebKitGTK); 'e2e' and 'e2e-firefox' (Node
// driving real tabs through playwright-core), 'e2e-webkit' (multi-tab essentials over WebDriver).
import './test/node-compat.js'
import { availableParallelism } from 'node:os'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { chromiumArgs, chromiumPath } from './test/chromium.js'
import { firefoxProvider, webkitgtkProvider } from './test/engines/providers.js'

// Node and browser files run together in group 1, then the e2e files alone in group 2.
// Projects in one group must share maxWorkers. (Left at group 0 with one worker, Vitest
// would move node and browser into a catch-all group that runs after e2e.)
const workers = Math.max(2, availableParallelism() - 1)

export default defineConfig({
  server: { host: '127.0.0.1' },
  test: {
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
      {
        server: { host: '127.0.0.1' },
        test: {
          name: 'browser-firefox',
          include: ['test/**/*.browser.test.ts'],
          maxWorkers: workers,
          sequence: { groupOrder: 1 },
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
          sequence: { groupOrder: 1 },
          browser: {
            enabled: true,
            // MiniBrowser has no headless mode: it runs on a private Xvfb display.
            headless: false,
            provider: webkitgtkProvider(),
            instances: [{ browser: 'safari' }],
          },
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.e2e.test.ts', 'test/reliability/**/*.e2e.test.ts'],
          // Each file launches its own Chromium; on two cores they must not overlap with
          // each other or with the browser project.
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
