// Three projects: 'node' (unit, plain Node), 'browser' (vitest browser mode in Debian's
// headless Chromium) and 'e2e' (Node driving real Chromium tabs through playwright-core).
import './test/node-compat.js'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'
import { chromiumArgs, chromiumPath } from './test/chromium.js'

export default defineConfig({
  server: { host: '127.0.0.1' },
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.node.test.ts'],
        },
      },
      {
        server: { host: '127.0.0.1' },
        test: {
          name: 'browser',
          include: ['test/**/*.browser.test.ts'],
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
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.e2e.test.ts'],
          // Each file launches its own Chromium; on two cores they must not overlap with
          // each other or with the browser project.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
