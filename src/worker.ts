// Placeholder for the `warren/worker` entry (the SharedWorker broker host script).
export {}
