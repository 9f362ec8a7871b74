/**
 * Topic exchange routing, RabbitMQ's rules: keys are split on '.' into words, `*` matches
 * exactly one word, `#` matches zero or more words. The empty key has zero words (so `#`
 * matches it and `*` does not); 'a..b' has an empty middle word.
 *
 * Bindings live in a word trie, so a lookup only walks the branches the key can reach,
 * whatever the number of bindings. `#` is the only way to reach a node at the same position
 * along two paths, so each (`#` node, position) pair is expanded at most once: `#.#.#` stays
 * linear in the key length instead of exploding.
 */

/** Splits a topic key into words; the empty key has none (as in RabbitMQ). */
export const topicWords = (key: string): string[] => (key === '' ? [] : key.split('.'))

let nextNodeId = 0

class TrieNode<T> {
  /** Used to key the (node, position) memo of `#` nodes. */
  readonly id = nextNodeId++
  /** Literal words; wildcards live apart so a literal '*' in a routing key cannot reach them twice. */
  readonly words = new Map<string, TrieNode<T>>()
  star: TrieNode<T> | undefined
  hash: TrieNode<T> | undefined
  readonly values = new Set<T>()
  /** This node is a `#` wildcard (a literal '#' word never reaches it). */
  readonly isHash: boolean

  constructor(readonly parent: TrieNode<T> | undefined, readonly word: string) {
    this.isHash = parent !== undefined && word === '#'
  }

  child(word: string): TrieNode<T> | undefined {
    if (word === '*') return this.star
    if (word === '#') return this.hash
    return this.words.get(word)
  }

  isEmpty(): boolean {
    return this.values.size === 0 && this.words.size === 0 && this.star === undefined && this.hash === undefined
  }
}

export class TopicTrie<T> {
  private readonly root = new TrieNode<T>(undefined, '')
  private count = 0

  /** Number of (binding key, value) entries. */
  get size(): number {
    return this.count
  }

  /** Adds a binding; adding the same value under the same key twice keeps one entry. */
  add(bindingKey: string, value: T): void {
    let node = this.root
    for (const word of topicWords(bindingKey)) {
      let next = node.child(word)
      if (next === undefined) {
        next = new TrieNode<T>(node, word)
        if (word === '*') node.star = next
        else if (word === '#') node.hash = next
        else node.words.set(word, next)
      }
      node = next
    }
    if (!node.values.has(value)) {
      node.values.add(value)
      this.count++
    }
  }

  /** Removes a binding; returns whether it existed. Prunes branches left empty. */
  remove(bindingKey: string, value: T): boolean {
    const node = this.find(bindingKey)
    if (node === undefined || !node.values.delete(value)) return false
    this.count--
    let cur: TrieNode<T> = node
    while (cur.parent !== undefined && cur.isEmpty()) {
      const parent: TrieNode<T> = cur.parent
      if (cur.word === '*' && parent.star === cur) parent.star = undefined
      else if (cur.word === '#' && parent.hash === cur) parent.hash = undefined
      else parent.words.delete(cur.word)
      cur = parent
    }
    return true
  }

  has(bindingKey: string, value: T): boolean {
    return this.find(bindingKey)?.values.has(value) ?? false
  }

  /** Every value bound under a pattern that matches the routing key. */
  match(routingKey: string): Set<T> {
    const result = new Set<T>()
    const words = topicWords(routingKey)
    const n = words.length
    const seen = new Set<number>()
    // Explicit stack: no recursion depth limit, whatever the key length.
    const nodes: TrieNode<T>[] = [this.root]
    const positions: number[] = [0]
    while (nodes.length > 0) {
      const node = nodes.pop()!
      const i = positions.pop()!
      if (node.hash !== undefined) {
        // `#` may swallow zero words here: enter it at the same position.
        const key = node.hash.id * (n + 1) + i
        if (!seen.has(key)) {
          seen.add(key)
          nodes.push(node.hash)
          positions.push(i)
        }
      }
      if (node.isHash && i < n) {
        // Inside `#`: swallow one more word.
        const key = node.id * (n + 1) + i + 1
        if (!seen.has(key)) {
          seen.add(key)
          nodes.push(node)
          positions.push(i + 1)
        }
      }
      if (i === n) {
        for (const value of node.values) result.add(value)
        continue
      }
      const literal = node.words.get(words[i]!)
      if (literal !== undefined) {
        nodes.push(literal)
        positions.push(i + 1)
      }
      if (node.star !== undefined) {
        nodes.push(node.star)
        positions.push(i + 1)
      }
    }
    return result
  }

  clear(): void {
    this.root.words.clear()
    this.root.star = undefined
    this.root.hash = undefined
    this.root.values.clear()
    this.count = 0
  }

  private find(bindingKey: string): TrieNode<T> | undefined {
    let node: TrieNode<T> | undefined = this.root
    for (const word of topicWords(bindingKey)) {
      node = node.child(word)
      if (node === undefined) return undefined
    }
    return node
  }
}

/**
 * Whether one pattern matches one key, by dynamic programming over (pattern word, key word).
 * A plain reference for tests and one-off checks; routing uses `TopicTrie`.
 */
export function topicMatches(pattern: string, key: string): boolean {
  const p = topicWords(pattern)
  const k = topicWords(key)
  // can[j] = pattern words from i on match key words from j on; computed from the end.
  let next: boolean[] = new Array<boolean>(k.length + 1).fill(false)
  next[k.length] = true
  for (let i = p.length - 1; i >= 0; i--) {
    const cur: boolean[] = new Array<boolean>(k.length + 1).fill(false)
    const word = p[i]!
    for (let j = k.length; j >= 0; j--) {
      if (word === '#') cur[j] = next[j]! || (j < k.length && cur[j + 1]!)
      else cur[j] = j < k.length && (word === '*' || word === k[j]) && next[j + 1]!
    }
    next = cur
  }
  return next[0]!
}
