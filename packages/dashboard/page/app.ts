/**
 * The dashboard page: one screen that follows `/api/events` (one update a second for every
 * open page, never a request per job) and acts through `/api/actions` with the token the
 * operator enters. Built with text nodes only, so a job's name or error can never become
 * markup.
 */
import './style.css';
import type {
  DashboardAction,
  DashboardSnapshot,
  DelayedRow,
  FailedRow,
  FunctionRow,
  LiveUpdate,
  NodeRow,
  RunningRow,
  ScheduleRow,
  SearchResult,
  WorkerRow,
} from '../src/index.js';
import { act, follow, search, snapshot, token } from './api.js';
import { Chart } from './chart.js';
import { KeyedTable, buttonColumn, h, setText, textColumn, type Column } from './dom.js';
import { count, duration, relative } from './format.js';
import { drawSparkline, sparkline } from './spark.js';

/** Points of each function's sparkline (kept by the page: it starts when the page opens). */
const SPARK_POINTS = 60;

let now = 0;
const sparks = new Map<string, number[]>();
let lastCompleted = new Map<string, number>();

// ---- the status line: connection state and the answers of actions ----

const liveBadge = h('span', { class: 'badge', id: 'live' }, 'connecting');
const message = h('p', { id: 'message', role: 'status', 'aria-live': 'polite' });

function say(text: string, error = false): void {
  message.classList.toggle('error', error);
  setText(message, text);
}

async function perform(action: DashboardAction, done: string): Promise<void> {
  const result = await act(action);
  if (result.ok) {
    say(done);
    // Shown at once rather than at the next update; a failed read waits for that update.
    await snapshot().then(render, () => undefined);
  } else {
    say(`Refused: ${result.code}: ${result.message}`, true);
  }
}

const run = (action: DashboardAction, done: string) => () => void perform(action, done);

// ---- the token form ----

function tokenForm(): HTMLFormElement {
  const input = h('input', {
    type: 'password',
    id: 'token',
    name: 'token',
    autocomplete: 'off',
    placeholder: 'action token',
  });
  const state = h('span', { class: 'muted', id: 'token-state' });
  const show = () =>
    setText(state, token.get() === '' ? 'actions need the token' : 'token set for this tab');
  const form = h(
    'form',
    { class: 'token', 'aria-label': 'action token' },
    h('label', { for: 'token', class: 'sr-only' }, 'Action token'),
    input,
    h('button', { type: 'submit' }, 'Use token'),
    h('button', { type: 'button', id: 'forget' }, 'Forget'),
    state,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    token.set(input.value);
    input.value = '';
    show();
  });
  form.querySelector('#forget')!.addEventListener('click', () => {
    token.set('');
    show();
  });
  show();
  return form;
}

// ---- the search ----

const found = h('div', { id: 'found', 'aria-live': 'polite' });

function describe(result: SearchResult): Node[] {
  if (result.job === null && result.outcome === null)
    return [h('p', {}, `No job under "${result.query}".`)];
  const lines: Node[] = [];
  const j = result.job;
  if (j !== null) {
    const progress = j.denominator > 0 ? `, progress ${j.numerator}/${j.denominator}` : '';
    const when =
      j.state === 'delayed'
        ? `, runs ${relative(j.runAt, now)}`
        : j.state === 'running'
          ? `, started ${relative(j.startedAt, now)}`
          : '';
    lines.push(
      h(
        'p',
        {},
        `${j.handle} (${j.functionName}${j.unique === '' ? '' : `, unique ${j.unique}`}): ${j.state}, attempt ${j.attempt}${progress}${when}`,
      ),
    );
    const cancel = h('button', { type: 'button' }, 'Cancel');
    cancel.addEventListener(
      'click',
      run({ action: 'cancel', handle: j.handle }, `Cancelled ${j.handle}.`),
    );
    lines.push(cancel);
  }
  const o = result.outcome;
  if (o !== null) {
    lines.push(
      h(
        'p',
        {},
        `${o.handle} (${o.functionName}): ${o.state}${o.reason === null ? '' : ` (${o.reason})`} after ${o.attempts} attempt(s), ended ${relative(o.endedAt, now)}`,
      ),
    );
    if (o.result !== null) lines.push(h('pre', {}, o.result));
    const errors = h('ol', { class: 'errors' });
    for (const e of o.errors) {
      const said = e.error === null ? '' : `: ${e.name === null ? '' : `${e.name}: `}${e.error}`;
      const item = h('li', { value: String(e.attempt) }, `${e.reason}${said}`);
      if (e.stack !== null)
        item.append(h('details', {}, h('summary', {}, 'stack'), h('pre', {}, e.stack)));
      errors.append(item);
    }
    if (o.errors.length > 0) lines.push(errors);
  }
  return lines;
}

function searchForm(): HTMLFormElement {
  const input = h('input', {
    type: 'search',
    id: 'search',
    name: 'q',
    placeholder: 'handle or unique id',
    required: '',
  });
  const form = h(
    'form',
    { class: 'search', role: 'search' },
    h('label', { for: 'search', class: 'sr-only' }, 'Find a job by handle or unique id'),
    input,
    h('button', { type: 'submit' }, 'Find'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void search(input.value.trim()).then(
      (result) => found.replaceChildren(...describe(result)),
      (error: unknown) => found.replaceChildren(h('p', { class: 'error' }, String(error))),
    );
  });
  return form;
}

// ---- the tables ----

const handleColumn = <R extends { handle: string }>(): Column<R> =>
  textColumn('handle', (r) => r.handle);
const fnColumn = <R extends { functionName: string }>(): Column<R> =>
  textColumn('function', (r) => r.functionName);

const cancelColumn = <R extends { handle: string }>(): Column<R> =>
  buttonColumn('', [
    {
      name: 'cancel',
      label: () => 'Cancel',
      onClick: (r) =>
        void perform({ action: 'cancel', handle: r.handle }, `Cancelled ${r.handle}.`),
    },
  ]);

const functions = new KeyedTable<FunctionRow>(
  'functions',
  [
    textColumn('function', (f) => f.name),
    textColumn('queued', (f) => count(f.queued), true),
    textColumn('delayed', (f) => count(f.delayed), true),
    textColumn('running', (f) => count(f.running), true),
    textColumn('workers', (f) => count(f.workers), true),
    textColumn('done', (f) => count(f.completed), true),
    textColumn('failed', (f) => count(f.failed), true),
    {
      title: 'throughput',
      cell: (td, f) => {
        const points = sparks.get(f.name) ?? [];
        const svg = td.firstElementChild;
        if (svg instanceof SVGSVGElement) drawSparkline(svg, points);
        else td.append(sparkline(points));
      },
    },
    textColumn('state', (f) => (f.paused ? 'paused' : 'active')),
    buttonColumn('', [
      {
        name: 'toggle',
        label: (f) => (f.paused ? `Resume` : `Pause`),
        onClick: (f) =>
          void perform(
            f.paused
              ? { action: 'resume', functionName: f.name }
              : { action: 'pause', functionName: f.name },
            f.paused ? `Resumed ${f.name}.` : `Paused ${f.name}.`,
          ),
      },
    ]),
  ],
  (f) => f.name,
);

const running = new KeyedTable<RunningRow>(
  'running jobs',
  [
    handleColumn(),
    fnColumn(),
    {
      title: 'progress',
      cell: (td, r) => {
        let bar = td.querySelector('progress');
        if (bar === null) {
          bar = h('progress', { max: '1' });
          td.append(bar, h('span', { class: 'muted' }));
        }
        const known = r.denominator > 0;
        if (known) {
          bar.max = r.denominator;
          bar.value = Math.min(r.numerator, r.denominator);
        } else bar.removeAttribute('value'); // indeterminate: no status sent yet
        bar.setAttribute('aria-label', `progress of ${r.handle}`);
        setText(td.lastElementChild!, known ? ` ${r.numerator}/${r.denominator}` : '');
      },
    },
    textColumn('attempt', (r) => String(r.attempt), true),
    textColumn('running for', (r) => duration(now - r.startedAt), true),
    textColumn('worker', (r) =>
      r.node !== null ? `on ${r.node}` : r.worker === null ? 'in process' : `#${r.worker}`,
    ),
    cancelColumn(),
  ],
  (r) => r.handle,
);

const delayed = new KeyedTable<DelayedRow>(
  'delayed jobs',
  [
    handleColumn(),
    fnColumn(),
    textColumn('runs', (d) => relative(d.runAt, now)),
    textColumn('attempt', (d) => String(d.attempt), true),
    cancelColumn(),
  ],
  (d) => d.handle,
);

const failed = new KeyedTable<FailedRow>(
  'failed jobs',
  [
    handleColumn(),
    fnColumn(),
    textColumn('attempts', (f) => String(f.attempts), true),
    textColumn('ended', (f) => relative(f.endedAt, now)),
    textColumn('error', (f) =>
      f.error === null
        ? (f.reason ?? '')
        : f.errorName === null
          ? f.error
          : `${f.errorName}: ${f.error}`,
    ),
    buttonColumn('', [
      {
        name: 'retry',
        label: () => 'Retry',
        onClick: (f) =>
          void perform({ action: 'retry', handle: f.handle }, `Queued ${f.handle} again.`),
      },
      {
        name: 'discard',
        label: () => 'Discard',
        onClick: (f) =>
          void perform({ action: 'discard', handle: f.handle }, `Discarded ${f.handle}.`),
      },
    ]),
  ],
  (f) => f.handle,
);

const workers = new KeyedTable<WorkerRow>(
  'workers',
  [
    textColumn('id', (w) => `#${w.id}`),
    textColumn('client id', (w) => w.clientId || '–'),
    textColumn('address', (w) => w.address),
    textColumn('functions', (w) => w.functions.join(', ')),
  ],
  (w) => String(w.id),
);

const nodes = new KeyedTable<NodeRow>(
  'nodes',
  [
    textColumn('node', (n) => (n.self ? `${n.name} (this page)` : n.name)),
    textColumn('id', (n) => n.id.slice(0, 8)),
    textColumn('up since', (n) => relative(n.startedAt, now)),
    textColumn('last heartbeat', (n) => relative(n.heartbeatAt, now)),
    textColumn('running', (n) => count(n.running), true),
    textColumn('functions', (n) => n.functions.join(', ') || '–'),
  ],
  (n) => n.id,
);

const schedules = new KeyedTable<ScheduleRow>(
  'schedules',
  [
    textColumn('id', (s) => s.id),
    fnColumn(),
    textColumn('timing', (s) => s.timing),
    textColumn('next tick', (s) => (s.nextTick === null ? '–' : relative(s.nextTick, now))),
    textColumn('last tick', (s) => (s.lastTick === null ? '–' : relative(s.lastTick, now))),
  ],
  (s) => s.id,
);

// ---- the screen ----

const totalsList = h('dl', { class: 'totals' });
const totalCells = new Map<string, HTMLElement>();
for (const name of [
  'functions',
  'queued',
  'delayed',
  'running',
  'workers',
  'failed',
  'schedules',
  'nodes',
]) {
  const value = h('dd', { id: `total-${name}` }, '–');
  totalCells.set(name, value);
  totalsList.append(h('div', {}, h('dt', {}, name), value));
}

const chartBox = h('div', {
  class: 'chart',
  role: 'img',
  'aria-label': 'throughput and latency over the last two minutes',
});

function section(id: string, title: string, ...content: Node[]): HTMLElement {
  return h(
    'section',
    { id, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title),
    ...content,
  );
}

document.body.append(
  h('header', {}, h('h1', {}, 'geartrain'), liveBadge, tokenForm()),
  message,
  h(
    'main',
    {},
    section('overview', 'Overview', totalsList, chartBox),
    section('find', 'Find a job', searchForm(), found),
    section('functions', 'Functions', functions.element),
    section('running', 'Running', running.element),
    section('delayed', 'Delayed', delayed.element),
    section('failed', 'Failed', failed.element),
    section('nodes', 'Nodes', nodes.element),
    section('workers', 'Workers and clients', workers.element),
    section('schedules', 'Schedules', schedules.element),
  ),
);

const chart = new Chart(chartBox);

/** Adds one interval of each function's completions to its sparkline. */
function extendSparks(rows: readonly FunctionRow[]): void {
  const next = new Map<string, number>();
  for (const f of rows) {
    next.set(f.name, f.completed);
    const before = lastCompleted.get(f.name);
    if (before === undefined) continue;
    const points = sparks.get(f.name) ?? [];
    points.push(Math.max(0, f.completed - before));
    if (points.length > SPARK_POINTS) points.shift();
    sparks.set(f.name, points);
  }
  for (const name of sparks.keys()) if (!next.has(name)) sparks.delete(name);
  lastCompleted = next;
}

function render(s: DashboardSnapshot): void {
  now = s.time;
  for (const [name, cell] of totalCells)
    setText(cell, count(s.totals[name as keyof DashboardSnapshot['totals']]));
  functions.update(s.functions, s.totals.functions, 'no functions yet');
  running.update(s.running, s.totals.running, 'nothing running');
  delayed.update(s.delayed, s.totals.delayed, 'nothing delayed');
  failed.update(s.failed, s.totals.failed, 'no failed jobs kept');
  nodes.update(s.nodes, s.totals.nodes, 'no nodes');
  workers.update(s.workers, s.totals.workers, 'no connections');
  schedules.update(s.schedules, s.totals.schedules, 'no schedules');
}

function onUpdate(update: LiveUpdate): void {
  extendSparks(update.snapshot.functions);
  render(update.snapshot);
  chart.update(update.history);
}

follow(onUpdate, (live) => {
  setText(liveBadge, live ? 'live' : 'reconnecting');
  liveBadge.classList.toggle('off', !live);
});
