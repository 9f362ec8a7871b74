// Vitest global setup of the 'e2e-remote' project: one private RabbitMQ node for all its files
// (test/rabbitmq/node.mjs), its URLs and controls handed to them through provide/inject. No
// RabbitMQ is a failure, never a skip: these suites are what issue #13 is tested by.
import type { TestProject } from 'vitest/node'
import { startRabbitmq, type RabbitmqInfo } from './node.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    rabbitmq: RabbitmqInfo
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node = await startRabbitmq({ log: (line: string) => console.log(`[rabbitmq] ${line}`) })
  project.provide('rabbitmq', node.info)
  return () => node.stop()
}
