/** Buttons that show and hide forms: the toolbar's "+ Add" and a pane's row of actions. */
import { h } from './dom.js'

/** A toolbar button that shows and hides `form` (hidden at first); pressed while it shows. */
export function revealButton(form: HTMLElement, testid: string, label: string): HTMLButtonElement {
  form.hidden = true
  const button = h('button', { type: 'button', class: 'btn', 'data-testid': testid, onClick: () => {
    form.hidden = !form.hidden
    button.setAttribute('aria-pressed', String(!form.hidden))
  } }, label)
  return button
}

/**
 * Action buttons that each open their own form in one shared place (`form`); pressing the
 * button of the open form closes it again. At most one form shows at a time.
 */
export function formSwitcher(): {
  form: HTMLElement
  button(which: string, testid: string, label: string, build: () => HTMLElement): HTMLButtonElement
} {
  const form = h('div')
  const buttons: HTMLButtonElement[] = []
  let active: string | undefined
  const show = (which: string, build: () => HTMLElement) => {
    active = active === which ? undefined : which
    if (active) form.replaceChildren(build())
    else form.replaceChildren()
    for (const button of buttons) button.setAttribute('aria-pressed', String(button.dataset.form === active))
  }
  return {
    form,
    button(which, testid, label, build) {
      const button = h('button', { type: 'button', class: 'btn', 'data-form': which, 'data-testid': testid, onClick: () => show(which, build) }, label)
      buttons.push(button)
      return button
    },
  }
}
