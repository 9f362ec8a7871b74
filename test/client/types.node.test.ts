// Type-level tests (checked by tsc; at run time expectTypeOf is a no-op): body types flow from
// Queue<T> and Exchange<T> to Message<T>, and options are typed.
import { describe, expectTypeOf, it } from 'vitest'
import {
  Connection,
  Consumer,
  Exchange,
  Queue,
  type ConnectionStatus,
  type Message,
  type Producer,
  type PublishConfirm,
} from '../../src/index.js'
import { SimpleQueue } from '../../src/simple.js'
import type { Video } from './helpers.js'

/** The checks are compiled, never run: they only need a Connection's type. */
const typecheck = (_checks: (conn: Connection) => void) => {}

describe('types', () => {
  it('conn.consume(Queue<Video>) yields Message<Video>', () =>
    typecheck((conn) => {
      const video = new Queue<Video>('video')
      const consumer = conn.consume(video)
      expectTypeOf(consumer).toEqualTypeOf<Consumer<Video>>()
      expectTypeOf(consumer[Symbol.asyncIterator]().next()).resolves.toMatchTypeOf<IteratorResult<Message<Video>>>()
      const check = async () => {
        for await (const message of conn.consume(video)) {
          expectTypeOf(message).toEqualTypeOf<Message<Video>>()
          expectTypeOf(message.body).toEqualTypeOf<Video>()
        }
      }
      void check
    }))

  it('callbacks get the typed body', () =>
    typecheck((conn) => {
      conn.consumer(new Queue<Video>('v'), {
        callbacks: [
          (body, message) => {
            expectTypeOf(body).toEqualTypeOf<Video>()
            expectTypeOf(message).toEqualTypeOf<Message<Video>>()
          },
        ],
      })
    }))

  it('get, SimpleQueue and rpc carry the body type', () =>
    typecheck((conn) => {
      const video = new Queue<Video>('video').bind(conn)
      expectTypeOf(video.get()).resolves.toEqualTypeOf<Message<Video> | undefined>()
      const simple = new SimpleQueue<Video>(conn, 'videos')
      expectTypeOf(simple).toEqualTypeOf<SimpleQueue<Video>>()
      expectTypeOf(simple.get()).resolves.toEqualTypeOf<Message<Video>>()
      expectTypeOf(conn.rpc<{ a: number }, number>('add', { a: 1 })).resolves.toEqualTypeOf<number>()
    }))

  it('a Queue<Req, Res> types request/reply end to end: handler in, rpc result out', () =>
    typecheck((conn) => {
      const add = new Queue<{ a: number; b: number }, number>('rpc.add')
      void conn.serve(add, (request, message) => {
        expectTypeOf(request).toEqualTypeOf<{ a: number; b: number }>()
        expectTypeOf(message).toEqualTypeOf<Message<{ a: number; b: number }>>()
        return request.a + request.b
      })
      void conn.serve(add, async ({ a, b }) => a + b)
      // @ts-expect-error the queue's replies are numbers
      void conn.serve(add, ({ a, b }) => `${a + b}`)
      expectTypeOf(conn.rpc(add, { a: 1, b: 2 })).resolves.toEqualTypeOf<number>()
      expectTypeOf(conn.rpc(add.bind(conn), { a: 1, b: 2 })).resolves.toEqualTypeOf<number>()
      // @ts-expect-error the request must be an { a, b }
      void conn.rpc(add, { a: 1 })
      // An untyped queue or a bare name stays unknown unless the call says otherwise.
      expectTypeOf(conn.rpc('rpc.add', { a: 1, b: 2 })).resolves.toEqualTypeOf<unknown>()
      void conn.serve<{ a: number }, string>('rpc.echo', ({ a }) => String(a))
    }))

  it('publishing checks the body type', () =>
    typecheck((conn) => {
      const producer = conn.producer<Video>()
      expectTypeOf(producer).toEqualTypeOf<Producer<Video>>()
      expectTypeOf(producer.publish({ name: 'a', size: 1 })).resolves.toEqualTypeOf<PublishConfirm>()
      // @ts-expect-error a string is not a Video
      void producer.publish('not a video')
      const media = new Exchange<Video>('media').bind(conn)
      // @ts-expect-error the exchange carries Video bodies
      void media.publish(42)
    }))

  it('status is a discriminated union', () =>
    typecheck((conn) => {
      const check = async () => {
        for await (const status of conn.status) {
          if (status.type === 'connected') expectTypeOf(status.epoch).toEqualTypeOf<number>()
          if (status.type === 'reconnecting') expectTypeOf(status.reason).toEqualTypeOf<Error>()
        }
      }
      void check
    }))

  it('option shapes are checked', () =>
    typecheck((conn) => {
      // @ts-expect-error overflow takes one of three strings
      new Queue('q', { overflow: 'drop-tail' })
      // @ts-expect-error messageTtl is a number of milliseconds
      new Queue('q', { messageTtl: '1000' })
      expectTypeOf(Connection.open).parameter(0).toMatchTypeOf<string | { url?: string } | undefined>()
      expectTypeOf<ConnectionStatus['type']>().toEqualTypeOf<'connected' | 'reconnecting' | 'disconnected' | 'error'>()
    }))
})
