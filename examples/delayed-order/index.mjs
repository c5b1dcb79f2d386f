// Two orders, one paid in time: the unpaid one is closed when its delayed job runs. The
// closing delay is 20 minutes in the application; this run uses 1.5 s to show it (the
// test, orders.test.mjs, checks the 20 minutes on virtual time).
import { createJobServer } from '@geartrain/core';
import { closeUnpaidOrder, createOrderBook, placeOrder } from './orders.mjs';

const server = createJobServer();
const book = createOrderBook();
server.worker().register('close-unpaid-order', closeUnpaidOrder(book));
const client = server.client();
const start = Date.now();
server.events$.subscribe((event) => {
  if (event.type === 'completed')
    console.log(`+${Date.now() - start} ms: job ${event.handle} done`);
});

await placeOrder(client, book, 'A-1', 1500);
await placeOrder(client, book, 'A-2', 1500);
console.log('placed A-1 and A-2, both unpaid');
book.pay('A-2');
console.log('A-2 paid');
await new Promise((resolve) => setTimeout(resolve, 1800));
console.log('A-1 is', book.get('A-1').state);
console.log('A-2 is', book.get('A-2').state);
await server.close();
