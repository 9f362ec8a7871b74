/**
 * Table items that open on a click: a row, and under it a detail row holding a pane that is
 * made on first opening and kept (with what the user typed in it) across redraws.
 */
import type { Overview } from '../protocol/management.js'
import { h, type Child, type Props } from './dom.js'

/** What a detail row shows for one item: built once, updated from every overview. */
export interface DetailPane<T> {
  readonly el: HTMLElement
  update(item: T, overview: Overview): void
}

/** The tbody of one item, with the detail row and (once opened) the pane in it. */
export interface ExpandableItem<P> extends HTMLTableSectionElement {
  detailRow: HTMLTableRowElement
  pane?: P
}

export class ExpandableRows {
  readonly #open = new Set<string>()

  /** `refresh` redraws the view, so a toggle shows at once. */
  constructor(private readonly refresh: () => void) {}

  /** The tbody for `key`: its clickable row of `cells` and a hidden detail cell `colSpan` wide. */
  item(key: string, attrs: Props, cells: Child[], colSpan: number): { body: HTMLTableSectionElement; detailRow: HTMLTableRowElement } {
    const detailRow = h('tr', { hidden: true }, h('td', { class: 'detail', colSpan }))
    const row = h('tr', { class: 'row', onClick: () => this.toggle(key) }, ...cells)
    return { body: h('tbody', { class: 'item', ...attrs }, row, detailRow), detailRow }
  }

  toggle(key: string): void {
    if (this.#open.has(key)) this.#open.delete(key)
    else this.#open.add(key)
    this.refresh()
  }

  /** Shows `item` open or closed; an open one gets its pane (made by `makePane` the first time) updated. */
  showDetail<T, P extends DetailPane<T>>(item: ExpandableItem<P>, key: string, makePane: () => P, value: T, overview: Overview): void {
    const isOpen = this.#open.has(key)
    item.classList.toggle('open', isOpen)
    item.detailRow.hidden = !isOpen
    if (!isOpen) return
    item.pane ??= makePane()
    if (!item.pane.el.isConnected) item.detailRow.firstElementChild!.replaceChildren(item.pane.el)
    item.pane.update(value, overview)
  }
}
