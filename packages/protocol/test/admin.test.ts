import { describe, expect, it } from 'vitest';
import {
  ADMIN_ERRORS,
  formatErr,
  formatOk,
  formatOkValue,
  formatPriorityStatus,
  formatRejection,
  formatShowJobs,
  formatShowUniqueJobs,
  formatStatus,
  formatWorkers,
  parseAdminLine,
  tokenizeAdminLine,
  type AdminCommand,
} from '../src/index.js';

describe('tokenizeAdminLine', () => {
  it.each([
    ['status', ['status']],
    ['', ['']],
    ['cancel job H:vm:1', ['cancel', 'job', 'H:vm:1']],
    ['a   b', ['a', 'b']],
    ['status ', ['status', '']],
    [' status', ['', 'status']],
    ['a b  ', ['a', 'b', '']],
  ])('%j → %j', (line, tokens) => {
    expect(tokenizeAdminLine(line)).toEqual(tokens);
  });
});

/**
 * What gearmand 1.1.20 answers to lines that change nothing, observed live (the line
 * endings were stripped by the decoder before parsing).
 */
describe('rejections, byte for byte as gearmand answered them', () => {
  it.each([
    ['a b c d e', 'ERR UNKNOWN_COMMAND Unknown+server+commanda\r\n'],
    ['', 'ERR UNKNOWN_COMMAND Unknown+server+command\r\n'],
    [' status', 'ERR UNKNOWN_COMMAND Unknown+server+command\r\n'],
    ['bogus', 'ERR UNKNOWN_COMMAND Unknown+server+commandbogus\r\n'],
    ['BoGuS x', 'ERR UNKNOWN_COMMAND Unknown+server+commandBoGuS\r\n'],
    ['cancel foo bar', 'ERR UNKNOWN_ERROR\r\n'],
    ['cancel job', 'ERR UNKNOWN_COMMAND Unknown+server+commandcancel\r\n'],
    ['cancel job H:x:1 y', 'ERR UNKNOWN_ERROR\r\n'],
    ['show', 'ERR UNKNOWN_COMMAND Unknown+server+commandshow\r\n'],
    ['show unique', 'ERR UNKNOWN_SHOW_ARGUMENTS\r\n'],
    ['show jobs x', 'ERR UNKNOWN_SHOW_ARGUMENTS\r\n'],
    [
      'maxqueue',
      'ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+maxqueue\r\n',
    ],
    [
      'create function',
      'ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+create\r\n',
    ],
    [
      'drop function x y',
      'ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+drop\r\n',
    ],
  ])('%j', (line, reply) => {
    expect(formatRejection(parseAdminLine(line))).toBe(reply);
  });

  it('shutdown with a word other than graceful is invalid, as gearmand before 1.1.15 said', () => {
    expect(parseAdminLine('shutdown now')).toEqual({ name: 'invalid arguments', word: 'shutdown' });
    expect(formatRejection(parseAdminLine('shutdown now'))).toBe(
      'ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+shutdown\r\n',
    );
  });

  it('six tokens are refused (gearmand closes the connection without a reply)', () => {
    const command = parseAdminLine('a b c d e f');
    expect(command).toEqual({ name: 'too many tokens' });
    expect(formatRejection(command)).toBeUndefined();
  });
});

describe('parseAdminLine', () => {
  it.each<[string, AdminCommand]>([
    ['status', { name: 'status' }],
    ['STATUS', { name: 'status' }],
    ['status ', { name: 'status' }],
    ['workers', { name: 'workers' }],
    ['prioritystatus', { name: 'prioritystatus' }],
    ['show jobs', { name: 'show jobs' }],
    ['SHOW JOBS', { name: 'show jobs' }],
    ['show unique jobs', { name: 'show unique jobs' }],
    ['cancel job H:vm:7', { name: 'cancel job', handle: 'H:vm:7' }],
    ['create function newfn', { name: 'create function', functionName: 'newfn' }],
    ['drop function Rev', { name: 'drop function', functionName: 'Rev' }],
    ['getpid extra', { name: 'getpid' }],
    ['version x', { name: 'version' }],
    ['verbose', { name: 'verbose' }],
    ['shutdown', { name: 'shutdown', graceful: false }],
    ['shutdown GRACEFUL', { name: 'shutdown', graceful: true }],
    // geartrain's own.
    ['show job H:vm:7', { name: 'show job', handle: 'H:vm:7' }],
    ['help', { name: 'help' }],
    ['HELP me', { name: 'help' }],
    [
      'maxqueue fn',
      { name: 'maxqueue', functionName: 'fn', limits: { high: 0, normal: 0, low: 0 } },
    ],
    [
      'maxqueue fn 3',
      { name: 'maxqueue', functionName: 'fn', limits: { high: 3, normal: 3, low: 3 } },
    ],
    [
      'maxqueue fn 5 3',
      { name: 'maxqueue', functionName: 'fn', limits: { high: 5, normal: 3, low: 0 } },
    ],
    [
      'maxqueue fn 5 3 1',
      { name: 'maxqueue', functionName: 'fn', limits: { high: 5, normal: 3, low: 1 } },
    ],
    // atoi: a decimal prefix counts, garbage and negative numbers mean unlimited.
    [
      'maxqueue fn 12abc -4 x',
      { name: 'maxqueue', functionName: 'fn', limits: { high: 12, normal: 0, low: 0 } },
    ],
  ])('%j', (line, command) => {
    expect(parseAdminLine(line)).toEqual(command);
    expect(formatRejection(command)).toBeUndefined();
  });

  it('keeps the whole function name of create function (gearmand drops two bytes)', () => {
    expect(parseAdminLine('create function newfn')).toEqual({
      name: 'create function',
      functionName: 'newfn',
    });
  });
});

describe('reply formats (reference §4.2)', () => {
  it('status lists functions then a dot line', () => {
    expect(formatStatus([{ functionName: 'rev', total: 1, running: 1, workers: 1 }])).toBe(
      'rev\t1\t1\t1\n.\n',
    );
    expect(formatStatus([])).toBe('.\n');
  });

  it('prioritystatus', () => {
    expect(
      formatPriorityStatus([{ functionName: 'prio', high: 2, normal: 2, low: 2, workers: 0 }]),
    ).toBe('prio\t2\t2\t2\t0\n.\n');
  });

  it('workers, with and without functions', () => {
    expect(
      formatWorkers([
        { fd: 40, address: '127.0.0.1', clientId: '-', functions: ['rev'] },
        { fd: 38, address: '127.0.0.1', clientId: 'my-worker', functions: ['dup', 'dup'] },
        { fd: 39, address: '127.0.0.1', clientId: '-', functions: [] },
      ]),
    ).toBe('40 127.0.0.1 - : rev\n38 127.0.0.1 my-worker : dup dup\n39 127.0.0.1 - :\n.\n');
  });

  it('show jobs and show unique jobs', () => {
    expect(
      formatShowJobs([{ handle: 'H:vm:9', retries: 0, ignored: false, persisted: true }]),
    ).toBe('H:vm:9\t0\t0\t1\n.\n');
    expect(formatShowUniqueJobs(['u1', '', '-'])).toBe('u1\n\n-\n.\n');
  });

  it('OK and ERR line endings', () => {
    expect(formatOk()).toBe('OK\r\n');
    expect(formatOkValue('1.1.20+ds')).toBe('OK 1.1.20+ds\n');
    expect(formatOkValue('13972')).toBe('OK 13972\n');
    expect(formatErr(ADMIN_ERRORS.unknownJob)).toBe('ERR UNKNOWN_JOB\r\n');
    expect(formatErr(ADMIN_ERRORS.functionBusy)).toBe(
      'ERR there are still connected workers or executing clients\r\n',
    );
    expect(formatErr(ADMIN_ERRORS.functionNotFound)).toBe('ERR function not found\r\n');
  });
});
