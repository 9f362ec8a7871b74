// Runs bench/engine-features.ts in Node (Vite's module runner compiles the TypeScript) and
// prints the table. Not part of `npm test`. Usage: node bench/engine-features.mjs
import { runnerImport } from 'vite'

const { module } = await runnerImport(new URL('./engine-features.ts', import.meta.url).pathname, { configFile: false, logLevel: 'error' })
const rows = await module.run()
console.log(`warren engine, per-message cost (median of ${25} rounds of 250 messages), Node ${process.version}`)
console.log(module.format(rows))
