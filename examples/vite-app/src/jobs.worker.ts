// A dedicated worker: it joins the broker a tab started (no factory needed here) and runs jobs.
import { Connection } from 'warren'
import { JobQueue } from 'warren/jobs'
import { JOBS, type Double, type Doubled } from './jobs.ts'

const conn = await Connection.open('shared://')
new JobQueue<Double, Doubled>(conn, JOBS).process(async (job) => ({ result: job.data.n * 2, by: `worker ${conn.clientId}` }), {
  concurrency: 2,
})
