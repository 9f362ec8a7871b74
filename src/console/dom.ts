/** Tiny DOM builders for the console: no framework, just elements with props and children. */

export type Child = Node | string | number | null | undefined | false | readonly Child[]
export type Props = Record<string, unknown>

function apply(el: Element, props: Props | null | undefined): void {
  if (!props) return
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener)
    } else if (key === 'class') {
      el.setAttribute('class', String(value))
    } else if (key === 'style' && typeof value === 'string') {
      el.setAttribute('style', value)
    } else if (!(el instanceof HTMLElement)) {
      // SVG: attributes only (its properties are read-only animated values).
      el.setAttribute(key, value === true ? '' : String(value))
    } else if (key in el && !key.includes('-') && typeof value !== 'string') {
      ;(el as unknown as Record<string, unknown>)[key] = value
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      ;(el as unknown as Record<string, unknown>)[key] = value
    } else {
      el.setAttribute(key, value === true ? '' : String(value))
    }
  }
}

function append(el: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.appendChild(typeof child === 'object' ? (child as Node) : document.createTextNode(String(child)))
  }
}

/** `h('button', { class: 'primary', onClick }, 'Publish')` */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  apply(el, props)
  append(el, children)
  return el
}

const SVG_NS = 'http://www.w3.org/2000/svg'

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag)
  apply(el, props)
  append(el, children)
  return el
}

/** Sets text only when it changed (keeps selections and avoids layout work). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text
}

export function replace(el: Element, ...children: Child[]): void {
  const fragment = document.createDocumentFragment()
  append(fragment, children)
  el.replaceChildren(fragment)
}

/**
 * Keeps one element per item, keyed, in item order: created once, updated every refresh, so
 * what the user opened or typed inside survives the once-a-second redraw.
 */
export class Keyed<T, E extends Element> {
  readonly #items = new Map<string, E>()

  constructor(
    readonly parent: Element,
    readonly key: (item: T) => string,
    readonly create: (item: T) => E,
    readonly update: (el: E, item: T) => void,
    /** Fixed children at the start of `parent` (a table's thead) that are not items. */
    readonly skip = 0,
  ) {}

  render(items: readonly T[]): void {
    const seen = new Set<string>()
    let before: Element | null = this.parent.firstElementChild
    for (let i = 0; i < this.skip && before; i++) before = before.nextElementSibling
    for (const item of items) {
      const key = this.key(item)
      seen.add(key)
      let el = this.#items.get(key)
      if (!el) {
        el = this.create(item)
        this.#items.set(key, el)
      }
      this.update(el, item)
      if (el !== before) this.parent.insertBefore(el, before)
      else before = before.nextElementSibling
    }
    for (const [key, el] of this.#items) {
      if (seen.has(key)) continue
      el.remove()
      this.#items.delete(key)
    }
  }

  get(key: string): E | undefined {
    return this.#items.get(key)
  }
}

const drawn = new WeakMap<Element, string>()

/**
 * Redraws `el` only when `key` (a digest of what it shows) changed: the once-a-second refresh
 * then leaves still content alone, so hovers, selections and clicks in progress survive.
 */
export function redraw(el: Element, key: unknown, build: () => Child[] | Child): void {
  const digest = typeof key === 'string' ? key : JSON.stringify(key)
  if (drawn.get(el) === digest) return
  drawn.set(el, digest)
  const children = build()
  replace(el, ...(Array.isArray(children) ? children : [children]))
}
