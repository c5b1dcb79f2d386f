import { describe, expect, it } from 'vitest';
import { PACKET_TYPES, decodeAll, encode, type Magic, type Packet } from '../src/index.js';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

// One golden vector per packet type. The hex was produced by a framer written
// independently of this package, from the table in the protocol reference (§1.1).
const GOLDEN: [code: number, magic: Magic, bytes: string, packet: Packet][] = [
  [1, 'REQ', '00524551000000010000000772657665727365', { type: 'CAN_DO', functionName: 'reverse' }],
  [
    2,
    'REQ',
    '00524551000000020000000772657665727365',
    { type: 'CANT_DO', functionName: 'reverse' },
  ],
  [3, 'REQ', '005245510000000300000000', { type: 'RESET_ABILITIES' }],
  [4, 'REQ', '005245510000000400000000', { type: 'PRE_SLEEP' }],
  [5, 'REQ', '005245510000000500000000', { type: 'UNUSED' }],
  [6, 'RES', '005245530000000600000000', { type: 'NOOP' }],
  [
    7,
    'REQ',
    '005245510000000700000010726576657273650075310068656c6c6f',
    { type: 'SUBMIT_JOB', functionName: 'reverse', unique: 'u1', data: b('hello') },
  ],
  [8, 'RES', '005245530000000800000006483a766d3a31', { type: 'JOB_CREATED', handle: 'H:vm:1' }],
  [9, 'REQ', '005245510000000900000000', { type: 'GRAB_JOB' }],
  [10, 'RES', '005245530000000a00000000', { type: 'NO_JOB' }],
  [
    11,
    'RES',
    '005245530000000b00000014483a766d3a3100726576657273650068656c6c6f',
    { type: 'JOB_ASSIGN', handle: 'H:vm:1', functionName: 'reverse', data: b('hello') },
  ],
  [
    12,
    'RES',
    '005245530000000c0000000b483a766d3a310033003134',
    { type: 'WORK_STATUS', handle: 'H:vm:1', numerator: '3', denominator: '14' },
  ],
  [
    13,
    'RES',
    '005245530000000d0000000c483a766d3a31006f6c6c6568',
    { type: 'WORK_COMPLETE', handle: 'H:vm:1', data: b('olleh') },
  ],
  [14, 'RES', '005245530000000e00000006483a766d3a31', { type: 'WORK_FAIL', handle: 'H:vm:1' }],
  [15, 'REQ', '005245510000000f00000006483a766d3a31', { type: 'GET_STATUS', handle: 'H:vm:1' }],
  [
    16,
    'REQ',
    '00524551000000100000000970696e6700706f6e67',
    { type: 'ECHO_REQ', data: b('ping\0pong') },
  ],
  [
    17,
    'RES',
    '00524553000000110000000970696e6700706f6e67',
    { type: 'ECHO_RES', data: b('ping\0pong') },
  ],
  [
    18,
    'REQ',
    '00524551000000120000000b666e0075310068656c6c6f',
    { type: 'SUBMIT_JOB_BG', functionName: 'fn', unique: 'u1', data: b('hello') },
  ],
  [
    19,
    'RES',
    '00524553000000130000001d51554555455f4552524f52004a6f622071756575652069732066756c6c',
    { type: 'ERROR', errorCode: 'QUEUE_ERROR', errorText: 'Job queue is full' },
  ],
  [
    20,
    'RES',
    '00524553000000140000000f483a766d3a31003100310033003134',
    {
      type: 'STATUS_RES',
      handle: 'H:vm:1',
      known: '1',
      running: '1',
      numerator: '3',
      denominator: '14',
    },
  ],
  [
    21,
    'REQ',
    '005245510000001500000005666e000078',
    { type: 'SUBMIT_JOB_HIGH', functionName: 'fn', unique: '', data: b('x') },
  ],
  [
    22,
    'REQ',
    '0052455100000016000000096d792d776f726b6572',
    { type: 'SET_CLIENT_ID', clientId: 'my-worker' },
  ],
  [
    23,
    'REQ',
    '005245510000001700000007666e0035303030',
    { type: 'CAN_DO_TIMEOUT', functionName: 'fn', timeout: '5000' },
  ],
  [24, 'REQ', '005245510000001800000000', { type: 'ALL_YOURS' }],
  [
    25,
    'RES',
    '00524553000000190000000b483a766d3a3100626f6f6d',
    { type: 'WORK_EXCEPTION', handle: 'H:vm:1', data: b('boom') },
  ],
  [
    26,
    'REQ',
    '005245510000001a0000000a657863657074696f6e73',
    { type: 'OPTION_REQ', option: 'exceptions' },
  ],
  [
    27,
    'RES',
    '005245530000001b0000000a657863657074696f6e73',
    { type: 'OPTION_RES', option: 'exceptions' },
  ],
  [
    28,
    'RES',
    '005245530000001c00000009483a766d3a31000001',
    { type: 'WORK_DATA', handle: 'H:vm:1', data: Buffer.from([0, 1]) },
  ],
  [
    29,
    'RES',
    '005245530000001d0000000e483a766d3a31006361726566756c',
    { type: 'WORK_WARNING', handle: 'H:vm:1', data: b('careful') },
  ],
  [30, 'REQ', '005245510000001e00000000', { type: 'GRAB_JOB_UNIQ' }],
  [
    31,
    'RES',
    '005245530000001f00000011483a766d3a340070660000656d70747931',
    {
      type: 'JOB_ASSIGN_UNIQ',
      handle: 'H:vm:4',
      functionName: 'pf',
      unique: '',
      data: b('empty1'),
    },
  ],
  [
    32,
    'REQ',
    '005245510000002000000005666e007500',
    { type: 'SUBMIT_JOB_HIGH_BG', functionName: 'fn', unique: 'u', data: b('') },
  ],
  [
    33,
    'REQ',
    '005245510000002100000006666e00750064',
    { type: 'SUBMIT_JOB_LOW', functionName: 'fn', unique: 'u', data: b('d') },
  ],
  [
    34,
    'REQ',
    '005245510000002200000006666e00750064',
    { type: 'SUBMIT_JOB_LOW_BG', functionName: 'fn', unique: 'u', data: b('d') },
  ],
  [
    35,
    'REQ',
    '005245510000002300000011666e0075003000313200310036002a0064',
    {
      type: 'SUBMIT_JOB_SCHED',
      functionName: 'fn',
      unique: 'u',
      minute: '0',
      hour: '12',
      dayOfMonth: '1',
      month: '6',
      dayOfWeek: '*',
      data: b('d'),
    },
  ],
  [
    36,
    'REQ',
    '005245510000002400000011666e007500313730303030303030300064',
    {
      type: 'SUBMIT_JOB_EPOCH',
      functionName: 'fn',
      unique: 'u',
      epoch: '1700000000',
      data: b('d'),
    },
  ],
  [
    37,
    'REQ',
    '00524551000000250000000f6d6170007500726564756365000064',
    {
      type: 'SUBMIT_REDUCE_JOB',
      functionName: 'map',
      unique: 'u',
      reducer: 'reduce',
      aggregator: '',
      data: b('d'),
    },
  ],
  [
    38,
    'REQ',
    '00524551000000260000000f6d6170007500726564756365000064',
    {
      type: 'SUBMIT_REDUCE_JOB_BACKGROUND',
      functionName: 'map',
      unique: 'u',
      reducer: 'reduce',
      aggregator: '',
      data: b('d'),
    },
  ],
  [39, 'REQ', '005245510000002700000000', { type: 'GRAB_JOB_ALL' }],
  [
    40,
    'RES',
    '005245530000002800000015483a766d3a35006d61700075007265647563650064',
    {
      type: 'JOB_ASSIGN_ALL',
      handle: 'H:vm:5',
      functionName: 'map',
      unique: 'u',
      reducer: 'reduce',
      data: b('d'),
    },
  ],
  [41, 'REQ', '0052455100000029000000027531', { type: 'GET_STATUS_UNIQUE', unique: 'u1' }],
  [
    42,
    'RES',
    '005245530000002a0000000c753100310030003000300032',
    {
      type: 'STATUS_RES_UNIQUE',
      unique: 'u1',
      known: '1',
      running: '0',
      numerator: '0',
      denominator: '0',
      clientCount: '2',
    },
  ],
];

describe('golden vectors, one per packet type', () => {
  it('covers every packet type 1 to 42', () => {
    expect(GOLDEN.map(([code]) => code)).toEqual(PACKET_TYPES.map((spec) => spec.code));
  });

  it.each(GOLDEN)(
    'type %i encodes to its golden bytes and decodes back',
    (code, magic, bytes, packet) => {
      expect(encode(packet, magic).toString('hex')).toBe(bytes);
      expect(decodeAll(hex(bytes))).toEqual([{ kind: 'packet', magic, packet }]);
      expect(hex(bytes).readUInt32BE(4)).toBe(code);
    },
  );
});

// Bytes captured from a live gearmand 1.1.20 (reference §1.2).
describe('bytes captured from gearmand', () => {
  const captured: [string, Magic, Packet][] = [
    [
      '00524551 00000012 0000000b 666e00753100 68656c6c6f',
      'REQ',
      { type: 'SUBMIT_JOB_BG', functionName: 'fn', unique: 'u1', data: b('hello') },
    ],
    [
      '00524553 00000008 00000007 483a766d3a3832',
      'RES',
      { type: 'JOB_CREATED', handle: 'H:vm:82' },
    ],
    ['00524551 0000000f 00000007 483a766d3a3832', 'REQ', { type: 'GET_STATUS', handle: 'H:vm:82' }],
    [
      '00524553 00000014 0000000f 483a766d3a383200 3100 3000 3000 30',
      'RES',
      {
        type: 'STATUS_RES',
        handle: 'H:vm:82',
        known: '1',
        running: '0',
        numerator: '0',
        denominator: '0',
      },
    ],
    ['00524551 00000029 00000002 7531', 'REQ', { type: 'GET_STATUS_UNIQUE', unique: 'u1' }],
    [
      '00524553 0000002a 0000000c 753100 3100 3000 3000 3000 30',
      'RES',
      {
        type: 'STATUS_RES_UNIQUE',
        unique: 'u1',
        known: '1',
        running: '0',
        numerator: '0',
        denominator: '0',
        clientCount: '0',
      },
    ],
    ['00524551 0000001a 00000003 666f6f', 'REQ', { type: 'OPTION_REQ', option: 'foo' }],
    [
      '00524553 00000013 00000035' +
        b('UNKNOWN_OPTION\0Server does not recognize given option').toString('hex'),
      'RES',
      {
        type: 'ERROR',
        errorCode: 'UNKNOWN_OPTION',
        errorText: 'Server does not recognize given option',
      },
    ],
  ];

  it.each(captured)('%s', (bytes, magic, packet) => {
    expect(decodeAll(hex(bytes))).toEqual([{ kind: 'packet', magic, packet }]);
    expect(encode(packet, magic)).toEqual(hex(bytes));
  });

  it('accepts WORK_COMPLETE with an empty result (payload ends in the NUL)', () => {
    const bytes = hex('00524551 0000000d 00000007 483a766d3a3100');
    expect(decodeAll(bytes)).toEqual([
      {
        kind: 'packet',
        magic: 'REQ',
        packet: { type: 'WORK_COMPLETE', handle: 'H:vm:1', data: Buffer.alloc(0) },
      },
    ]);
  });

  it('ignores the payload of a packet without arguments, as gearmand does with GRAB_JOB', () => {
    const bytes = hex('00524551 00000009 00000004 01020304');
    expect(decodeAll(bytes)).toEqual([
      { kind: 'packet', magic: 'REQ', packet: { type: 'GRAB_JOB' } },
    ]);
  });

  it('keeps NUL bytes in the last argument of a packet without data (the WORK_FAIL "H\\0" bug)', () => {
    const bytes = hex('00524553 0000000e 00000007 483a766d3a3100');
    expect(decodeAll(bytes)).toEqual([
      { kind: 'packet', magic: 'RES', packet: { type: 'WORK_FAIL', handle: 'H:vm:1\0' } },
    ]);
  });
});
