// The order closing, tested on virtual time with @geartrain/testing and node's own test
// runner (no vitest or jest needed): 20 minutes pass in microseconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestServer } from '@geartrain/testing';
import { CLOSE_AFTER, closeUnpaidOrder, createOrderBook, placeOrder } from './orders.mjs';

test('an unpaid order is closed 20 minutes after it was placed, not before', async () => {
  const t = createTestServer();
  const book = createOrderBook();
  t.worker().register('close-unpaid-order', closeUnpaidOrder(book));
  await placeOrder(t.client(), book, 'A-1');
  assert.equal((await t.queued()).length, 1);
  await t.advanceBy(CLOSE_AFTER - 1);
  assert.equal(book.get('A-1').state, 'unpaid');
  await t.advanceBy(1);
  assert.equal(book.get('A-1').state, 'closed');
  assert.deepEqual(
    t.finished().map((j) => [j.functionName, j.outcome, j.time]),
    [['close-unpaid-order', 'completed', 20 * 60_000]],
  );
  await t.close();
});

test('a paid order stays paid; placing it twice schedules one closing', async () => {
  const t = createTestServer();
  const book = createOrderBook();
  t.worker().register('close-unpaid-order', closeUnpaidOrder(book));
  await placeOrder(t.client(), book, 'B-1');
  await placeOrder(t.client(), book, 'B-1');
  assert.equal((await t.queued()).length, 1);
  await t.advanceBy(5 * 60_000);
  book.pay('B-1');
  await t.runUntilIdle();
  assert.equal(book.get('B-1').state, 'paid');
  assert.equal(t.finished().length, 1);
  await t.close();
});
