// Placeholder: the benchmark runner lands here (headless Chromium, medians next to the raw primitives).
console.log('warren bench: no benchmarks yet')
