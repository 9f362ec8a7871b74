// The bundle group's app again, without top-level await (its code in an async function).
// Rolldown (Vite's bundler) never merges a lazy chunk's shared modules into an entry that has
// top-level await (a dynamic import awaited at the top level would wait on itself), so
// bundle-app pays for one chunk per shared module set; this page shows what a page written
// this way loads.
import { Connection, Exchange, Queue } from '../../src/index.js'

const main = async () => {
  const conn = await Connection.open('shared://')
  const media = new Exchange('media', 'direct')
  const video = new Queue('video', { exchange: media, routingKey: 'video' })
  await conn.producer().publish({ n: 1 }, { exchange: media, routingKey: 'video', declare: [video] })
  await conn.consumer([video], { onMessage: (message) => message.ack() }).consume()
}
void main()
