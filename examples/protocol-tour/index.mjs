// A tour of @geartrain/protocol: replay the bytes of a real exchange between the
// `gearman` command-line client, a worker and gearmand, one byte at a time, and print
// every packet the decoder reassembles. Then answer two admin lines.
import { Decoder, PacketWriter, formatStatus, parseAdminLine } from '@geartrain/protocol';

const uuid = '7c5f3f0e-0d8a-4f51-9b5e-2f4b8a3d9e10';
const writer = new PacketWriter('REQ');
writer.write({
  type: 'SUBMIT_JOB',
  functionName: 'cli_rev',
  unique: uuid,
  data: Buffer.from('hello\n'),
});
writer.write({ type: 'GRAB_JOB_ALL' });
writer.write({ type: 'WORK_COMPLETE', handle: 'H:vm:55', data: Buffer.from('olleh\n') });
const conversation = Buffer.concat([...writer.flush(), Buffer.from('status\r\nshow jobs\r\n')]);

const decoder = new Decoder({
  packet(packet, magic) {
    const { type, ...fields } = packet;
    const shown = Object.entries(fields).map(([k, v]) =>
      Buffer.isBuffer(v) ? `${k}=${JSON.stringify(v.toString())}` : `${k}=${v}`,
    );
    console.log(`${magic} ${type} ${shown.join(' ')}`);
  },
  text(line) {
    const command = parseAdminLine(line);
    console.log(`admin ${JSON.stringify(line)} -> ${command.name}`);
    if (command.name === 'status') {
      process.stdout.write(
        formatStatus([{ functionName: 'cli_rev', total: 0, running: 0, workers: 1 }]),
      );
    }
  },
  error(error) {
    console.error(`protocol error ${error.code}: ${error.message}`);
  },
});

for (const byte of conversation) decoder.push(Buffer.of(byte));
console.log(
  `decoded ${conversation.length} bytes fed one at a time; ${decoder.buffered} left over`,
);
