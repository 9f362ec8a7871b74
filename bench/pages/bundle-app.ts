// The bundle group's app: a page that opens shared://, publishes and consumes, importing
// only what it uses from the `warren` entry (measured as the app's bundler ships it).
import { Connection, Exchange, Queue } from '../../src/index.js'

const conn = await Connection.open('shared://')
const media = new Exchange('media', 'direct')
const video = new Queue('video', { exchange: media, routingKey: 'video' })
await conn.producer().publish({ n: 1 }, { exchange: media, routingKey: 'video', declare: [video] })
await conn.consumer([video], { onMessage: (message) => message.ack() }).consume()
