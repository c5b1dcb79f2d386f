// The application code: orders that close themselves when unpaid after a while. A delayed
// job per order replaces the cron job that scanned the orders table every minute.

export const CLOSE_AFTER = 20 * 60_000; // 20 minutes

/** An in-memory order book (a database table in real life). */
export function createOrderBook() {
  const orders = new Map();
  return {
    create(id) {
      orders.set(id, { id, state: 'unpaid' });
    },
    pay(id) {
      const order = orders.get(id);
      if (order.state === 'unpaid') order.state = 'paid';
    },
    get: (id) => orders.get(id),
  };
}

/** Creates an order and schedules its closing. */
export async function placeOrder(client, book, id, closeAfter = CLOSE_AFTER) {
  book.create(id);
  await client.submit('close-unpaid-order', JSON.stringify({ id }), {
    delay: closeAfter,
    unique: `close-order-${id}`, // placing the same order twice schedules one closing
  });
}

/** The worker's handler: closes the order if it is still unpaid. */
export function closeUnpaidOrder(book) {
  return (job) => {
    const order = book.get(job.json().id);
    if (order?.state !== 'unpaid') return 'nothing to do';
    order.state = 'closed';
    return 'closed';
  };
}
