/**
 * Tutorial 6, "RPC": request/reply over queues. The server consumes `rpc_queue` and answers
 * each request with the Fibonacci number it asks for; the client publishes requests with a
 * `replyTo` queue and a `correlationId`, and matches each reply to its request.
 *
 *   client ──► [rpc_queue] ──► server
 *      ▲                          │
 *      └──── [amq.gen-… reply] ◄──┘   (correlationId ties them together)
 */
import { Queue, type Connection } from '../warren.js'
import type { Log } from '../shared/log.js'

const rpcQueue = new Queue<number>('rpc_queue', { durable: false })

export function fib(n: number): number {
  return n < 2 ? n : fib(n - 1) + fib(n - 2)
}

export async function run(conn: Connection, log: Log, numbers: number[] = [5, 10, 20, 30]): Promise<Array<[number, number]>> {
  // rpc_server.py: prefetch 1, so several servers would share the load fairly.
  const server = await conn.serve<number, number>(
    rpcQueue,
    (n) => {
      log(` [.] fib(${n})`)
      return fib(n)
    },
    { prefetch: 1 },
  )

  // rpc_client.py: each call waits for the reply with its correlation id.
  const results: Array<[number, number]> = []
  for (const n of numbers) {
    log(` [x] Requesting fib(${n})`)
    const answer = await conn.rpc<number, number>(rpcQueue, n)
    log(` [.] Got ${answer}`)
    results.push([n, answer])
  }
  // Requests in flight together are matched by correlation id, whatever order replies come in.
  const together = await Promise.all(numbers.map((n) => conn.rpc<number, number>(rpcQueue, n)))
  log(` [.] Together: ${together.join(', ')}`)

  await server.cancel()
  return results
}
