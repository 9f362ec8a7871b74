// The examples import Warren from here; in your app this is simply `from 'warren'`.
export * from '../src/index.js'
