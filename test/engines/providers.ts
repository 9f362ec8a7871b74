// Vitest browser-mode providers for the engines beyond Chromium. Firefox goes through the
// playwright provider (Debian's firefox-esr over WebDriver BiDi, shimmed in ../firefox.ts);
// WebKitGTK through the webdriverio provider, which cannot start MiniBrowser on its own:
// this provider starts Xvfb and WebKitWebDriver with the browser and stops them with it.
import { playwright } from '@vitest/browser-playwright'
import { webdriverio, WebdriverBrowserProvider } from '@vitest/browser-webdriverio'
import type { TestProject } from 'vitest/node'
import { firefoxPath, firefoxPrefs, shimPlaywrightForFirefox } from '../firefox.js'
import { miniBrowserCapabilities, startWebKitDriver, type WebKitDriver } from '../webkit.js'

export function firefoxProvider(): ReturnType<typeof playwright> {
  shimPlaywrightForFirefox()
  return playwright({
    launchOptions: { channel: 'moz-firefox', executablePath: firefoxPath(), headless: true, firefoxUserPrefs: firefoxPrefs },
  })
}

type Options = ConstructorParameters<typeof WebdriverBrowserProvider>[1]

class MiniBrowserProvider extends WebdriverBrowserProvider {
  private driver: Promise<WebKitDriver> | undefined
  private readonly driverOptions: Options

  constructor(project: TestProject, options: Options) {
    super(project, options)
    this.driverOptions = options
    // The driver rejects 'safari'; the base class puts this name in the capabilities.
    ;(this as unknown as { browserName: string }).browserName = 'MiniBrowser'
  }

  override async openBrowser(): ReturnType<WebdriverBrowserProvider['openBrowser']> {
    this.driver ??= startWebKitDriver()
    const { hostname, port } = await this.driver
    // The base class reads its options when it opens the session.
    Object.assign(this.driverOptions, { hostname, port })
    return super.openBrowser()
  }

  override async close(): Promise<void> {
    try {
      await super.close()
    } finally {
      await (await this.driver)?.stop()
    }
  }
}

/** Vitest's instance is named 'safari' (the provider's closest browser); the session is MiniBrowser. */
export function webkitgtkProvider(): ReturnType<typeof webdriverio> {
  const options: Options = { logLevel: 'silent', capabilities: miniBrowserCapabilities() }
  const base = webdriverio(options)
  return { ...base, providerFactory: (project: TestProject) => new MiniBrowserProvider(project, options) }
}
