// What the tabs and the worker share: the job queue's name and its types.
export interface Double { n: number }
export interface Doubled { result: number; by: string }

export const JOBS = 'starter.double'
