/** Small DOM helpers: elements built with text (never HTML), and tables updated in place. */

type Child = Node | string;

/** An element with attributes and children; text goes in as text nodes, never parsed. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Sets an element's text when it changed (a write per update would restart screen readers). */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/** Fills a table cell for one row; called on every update, so it changes only what moved. */
export type Cell<R> = (td: HTMLTableCellElement, row: R) => void;

export interface Column<R> {
  readonly title: string;
  readonly cell: Cell<R>;
  /** Right-aligned numbers. */
  readonly numeric?: boolean;
}

/** A column of text. */
export function textColumn<R>(title: string, text: (row: R) => string, numeric = false): Column<R> {
  return { title, numeric, cell: (td, row) => setText(td, text(row)) };
}

/** A column of buttons; a button is made once per row, so keyboard focus survives updates. */
export function buttonColumn<R>(
  title: string,
  buttons: readonly { label: (row: R) => string; name: string; onClick: (row: R) => void }[],
): Column<R> {
  const rows = new WeakMap<HTMLTableCellElement, R>();
  return {
    title,
    cell: (td, row) => {
      rows.set(td, row);
      if (td.childElementCount === 0) {
        for (const b of buttons) {
          const button = h('button', { type: 'button', 'data-action': b.name });
          button.addEventListener('click', () => {
            const current = rows.get(td);
            if (current !== undefined) b.onClick(current);
          });
          td.append(button);
        }
      }
      buttons.forEach((b, i) => setText(td.children[i]!, b.label(row)));
    },
  };
}

/**
 * A table whose rows are keyed (a handle, a function name): an update changes cells in
 * place, adds and removes rows, and moves a row only when the order changed.
 */
export class KeyedTable<R> {
  readonly element: HTMLElement;
  private readonly body = h('tbody');
  private readonly rows = new Map<string, HTMLTableRowElement>();
  private readonly note = h('p', { class: 'note' });

  constructor(
    label: string,
    private readonly columns: readonly Column<R>[],
    private readonly key: (row: R) => string,
  ) {
    const head = h('tr');
    for (const c of columns)
      head.append(h('th', { scope: 'col', class: c.numeric ? 'num' : '' }, c.title));
    this.element = h(
      'div',
      { class: 'table' },
      h('table', { 'aria-label': label }, h('thead', {}, head), this.body),
      this.note,
    );
  }

  /** Shows `rows`, in their order; `total` is how many there are (the rows may be the first). */
  update(rows: readonly R[], total = rows.length, empty = 'none'): void {
    const seen = new Set<string>();
    rows.forEach((row, index) => {
      const key = this.key(row);
      seen.add(key);
      let tr = this.rows.get(key);
      if (tr === undefined) {
        tr = h('tr', { 'data-key': key });
        for (const c of this.columns) tr.append(h('td', { class: c.numeric ? 'num' : '' }));
        this.rows.set(key, tr);
      }
      this.columns.forEach((c, i) => c.cell(tr.children[i] as HTMLTableCellElement, row));
      if (this.body.children[index] !== tr)
        this.body.insertBefore(tr, this.body.children[index] ?? null);
    });
    for (const [key, tr] of this.rows) {
      if (!seen.has(key)) {
        tr.remove();
        this.rows.delete(key);
      }
    }
    setText(
      this.note,
      rows.length === 0 ? empty : total > rows.length ? `showing ${rows.length} of ${total}` : '',
    );
  }
}
