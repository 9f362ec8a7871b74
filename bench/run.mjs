// `npm run bench` / `npm run bench -- --quick`: runs bench/main.ts (Vite's module runner
// compiles the TypeScript). Benchmarks are not tests: this never fails on a figure.
import { runnerImport } from 'vite'

const { module } = await runnerImport(new URL('./main.ts', import.meta.url).pathname, { configFile: false, logLevel: 'error' })
await module.main(process.argv.slice(2))
