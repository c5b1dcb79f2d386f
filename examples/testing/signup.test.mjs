// Unit tests with @geartrain/testing and node's test runner: no server process, no network,
// no waiting. (The same tests run under vitest or jest: the package needs no runner.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFakeClient, runJob } from '@geartrain/testing';
import { sendWelcomeMail, signUp } from './signup.mjs';

const user = { id: 7, email: 'ada@example.com', avatar: 'ada.png' };

test('sign-up mails once per user, in the background, and resizes the avatar first', async () => {
  const client = createFakeClient().on('resize-avatar', { result: 'ada-200.png' });
  assert.deepEqual(await signUp(client, user), { ok: true, avatar: 'ada-200.png' });
  const mail = client.last('send-welcome-mail');
  assert.equal(mail.background, true);
  assert.equal(mail.unique, 'welcome-7');
  assert.deepEqual(mail.json(), { email: 'ada@example.com' });
  assert.equal(client.last('resize-avatar').priority, 'high');
});

test('a failed resize still signs the user up, with the default avatar', async () => {
  const client = createFakeClient().on('resize-avatar', { exception: 'corrupt image' });
  assert.deepEqual(await signUp(client, user), { ok: true, avatar: 'default.png' });
});

test('the mail handler reports each step and returns what it did', async () => {
  const sent = [];
  const mailer = { render: async () => {}, send: async (to) => void sent.push(to) };
  const outcome = await runJob(
    (job) => sendWelcomeMail(job, mailer),
    '{"email":"ada@example.com"}',
  );
  assert.equal(outcome.ok, true);
  assert.equal(outcome.result.toString(), 'sent to ada@example.com');
  assert.deepEqual(
    outcome.reports.map((r) => `${r.numerator}/${r.denominator}`),
    ['1/2', '2/2'],
  );
  assert.deepEqual(sent, ['ada@example.com']);
});

test('the mail handler fails plainly on a bad address, and stops when aborted', async () => {
  const mailer = { render: async () => {}, send: async () => {} };
  const bad = await runJob((job) => sendWelcomeMail(job, mailer), '{"email":"nope"}');
  assert.equal(bad.ok, false);
  assert.equal(bad.failed, true); // WORK_FAIL, not an exception
  // Aborted before it starts (its timeout already passed): nothing is sent.
  const late = await runJob((job) => sendWelcomeMail(job, mailer), '{"email":"ada@example.com"}', {
    signal: AbortSignal.abort(),
  });
  assert.equal(late.ok, false);
  assert.equal(late.reports.length, 0);
  // Aborted while running: the step under way ends, the next one does not start.
  const run = runJob((job) => sendWelcomeMail(job, mailer), '{"email":"ada@example.com"}');
  run.abort();
  const stopped = await run;
  assert.equal(stopped.ok, false);
  assert.deepEqual(
    stopped.reports.map((r) => `${r.numerator}/${r.denominator}`),
    ['1/2'],
  );
});
