// The pending-request map: one timer for the usual timeout, own timers for others.
import { describe, expect, it } from 'vitest'
import { TimeoutError } from '../../src/index.js'
import { Requests } from '../../src/client/requests.js'

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('Requests', () => {
  it('times requests out oldest first, with the error made by the caller', async () => {
    const requests = new Requests(20)
    const errors = [new TimeoutError('a'), new TimeoutError('b')]
    const a = requests.add(1, 20, errors[0]!)
    await wait(5)
    const b = requests.add(1, 20, errors[1]!)
    const c = requests.add(1, 20, new TimeoutError('c'))
    requests.settle({ op: 'ok', id: c.id, result: 'done' })
    await expect(c.promise).resolves.toBe('done')
    await expect(a.promise).rejects.toBe(errors[0])
    await expect(b.promise).rejects.toBe(errors[1])
    expect(requests.size).toBe(0)
  })

  it('settles every request of a confirm range, each with its own copy of the result, and only those', async () => {
    const requests = new Requests(1000)
    const sent = Array.from({ length: 5 }, () => requests.add(1, 1000, new TimeoutError('x')))
    requests.settle({ op: 'ok', id: sent[1]!.id, through: sent[3]!.id, result: { routed: true } })
    const results = await Promise.all(sent.slice(1, 4).map((r) => r.promise))
    expect(results).toEqual([{ routed: true }, { routed: true }, { routed: true }])
    expect(new Set(results).size).toBe(3)
    expect(requests.has(sent[0]!.id)).toBe(true)
    expect(requests.has(sent[4]!.id)).toBe(true)
    expect(requests.size).toBe(2)
    requests.rejectAll(new Error('done'))
    await Promise.allSettled(sent.map((r) => r.promise))
  })

  it('gives other timeouts their own timer, and none for 0', async () => {
    const requests = new Requests(10_000)
    const short = requests.add(1, 10, new TimeoutError('short'))
    const never = requests.add(1, 0, new TimeoutError('never'))
    await expect(short.promise).rejects.toBeInstanceOf(TimeoutError)
    await wait(20)
    expect(requests.has(never.id)).toBe(true)
    requests.rejectAll(new Error('closed'))
    await expect(never.promise).rejects.toThrow('closed')
  })

  it('rejects only the requests of a closing channel', async () => {
    const requests = new Requests(1000)
    const one = requests.add(1, 1000, new TimeoutError('x'))
    const two = requests.add(2, 1000, new TimeoutError('y'))
    requests.rejectChannel(1, new Error('channel 1 closed'))
    await expect(one.promise).rejects.toThrow('channel 1 closed')
    expect(requests.has(two.id)).toBe(true)
    const failed = requests.settle({ op: 'error', id: two.id, error: { name: 'NotFoundError', code: 'NOT_FOUND', message: 'm', replyCode: 404 } })
    expect(failed?.channel).toBe(2)
    await expect(two.promise).rejects.toBe(failed!.error)
  })
})
