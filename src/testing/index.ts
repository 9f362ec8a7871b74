// Placeholder for the `warren/testing` entry (in-process broker, memory storage, fake clock).
export {}
