import { describe, expect, it } from 'vitest';
import { answeringLater, b, gatedStore, hex, setup } from './helpers.js';
import { Wire } from './wire.js';

describe('admin protocol on the same connection (reference §4)', () => {
  it('answers in request order when binary and text are mixed', async () => {
    const server = setup({ version: '9.9' });
    const c = new Wire(server);
    c.send({ type: 'ECHO_REQ', data: b('a') });
    c.sendRaw('version\n');
    c.send({ type: 'ECHO_REQ', data: b('b') });
    await c.text('OK 9.9\n');
    await c.packetsAfter(2);
    const echo = (payload: string) =>
      Buffer.concat([hex('00524553 00000011'), hex('00000001'), b(payload)]);
    expect(c.raw).toEqual(Buffer.concat([echo('a'), b('OK 9.9\n'), echo('b')]));
  });

  it('lists status, priorities, workers, jobs and unique ids byte for byte', async () => {
    const server = setup();
    const c = new Wire(server);
    c.send(
      { type: 'SUBMIT_JOB_BG', functionName: 'prio', unique: 'u1', data: b('') },
      { type: 'SUBMIT_JOB_HIGH_BG', functionName: 'prio', unique: '', data: b('') },
      { type: 'SUBMIT_JOB_LOW_BG', functionName: 'prio', unique: '', data: b('') },
    );
    await c.packetsAfter(3);
    const w = new Wire(server, '10.0.0.7');
    w.send(
      { type: 'SET_CLIENT_ID', clientId: 'my-worker' },
      { type: 'CAN_DO', functionName: 'prio' },
      { type: 'CAN_DO', functionName: 'other' },
    );
    await Wire.settle();
    const admin = new Wire(server);
    admin.sendRaw('status\r\nprioritystatus\r\nshow jobs\r\nshow unique jobs\r\nworkers\r\n');
    const text = await admin.text('my-worker');
    await admin.until(() => admin.raw.toString().split('.\n').length === 6);
    const ids = server.jobServer.connections().map((x) => x.id);
    expect(admin.raw.toString()).toBe(
      'prio\t3\t0\t1\nother\t0\t0\t1\n.\n' +
        'prio\t1\t1\t1\t1\nother\t0\t0\t0\t1\n.\n' +
        'H:t:1\t0\t0\t1\nH:t:2\t0\t0\t1\nH:t:3\t0\t0\t1\n.\n' +
        'u1\n\n\n.\n' +
        `${ids[0]} 127.0.0.1 - :\n${ids[1]} 10.0.0.7 my-worker : other prio\n${ids[2]} 127.0.0.1 - :\n.\n`,
    );
    expect(text).toContain('my-worker');
  });

  it('creates, drops (case-insensitively), limits and cancels', async () => {
    const server = setup();
    const a = new Wire(server);
    a.sendRaw('create function newfn\n');
    await a.text('OK\r\n');
    a.sendRaw('drop function NEWFN\r\ndrop function nope\r\nmaxqueue newfn 1\r\n');
    await a.text('ERR function not found\r\nOK\r\n');
    expect(a.raw.toString()).toBe('OK\r\nOK\r\nERR function not found\r\nOK\r\n');
    a.raw = Buffer.alloc(0);
    a.send({ type: 'SUBMIT_JOB_BG', functionName: 'busy', unique: '', data: b('') });
    await a.packetsAfter(1);
    a.raw = Buffer.alloc(0);
    a.sendRaw(
      'drop function busy\r\ncancel job H:t:1\r\ncancel job H:t:1\r\ndrop function busy\r\n',
    );
    await a.text('ERR UNKNOWN_JOB\r\nOK\r\n');
    // Queued jobs: their own reason (gearmand dropped the function and left them dangling).
    expect(a.raw.toString()).toBe(
      'ERR there are still 1 queued job (cancel them first, or let workers run them)\r\n' +
        'OK\r\nERR UNKNOWN_JOB\r\nOK\r\n',
    );
    // Workers or running jobs: gearmand's reason.
    const w = new Wire(server);
    w.send({ type: 'CAN_DO', functionName: 'worked' });
    await Wire.settle();
    a.raw = Buffer.alloc(0);
    a.sendRaw('drop function worked\r\n');
    expect(await a.text('\r\n')).toBe(
      'ERR there are still connected workers or executing clients\r\n',
    );
  });

  it('answers getpid, verbose, rejections, and six tokens with an ERR (gearmand closes)', async () => {
    const server = setup({ verbose: 'INFO' });
    const a = new Wire(server);
    a.sendRaw('getpid\nverbose\nbogus\nshow\n');
    await a.text('commandshow\r\n');
    expect(a.raw.toString()).toBe(
      `OK ${process.pid}\nOK INFO\nERR UNKNOWN_COMMAND Unknown+server+commandbogus\r\nERR UNKNOWN_COMMAND Unknown+server+commandshow\r\n`,
    );
    a.raw = Buffer.alloc(0);
    a.sendRaw('schedule add nightly report cron=0 0 3 * * *\nversion\n');
    await a.text('OK ');
    expect(a.raw.toString()).toBe(
      'ERR TOO_MANY_ARGUMENTS an+admin+line+takes+at+most+5+words:+URL-encode+the+spaces+inside+a+value\r\n' +
        'OK 0.1.0\n',
    );
    expect(a.closed).toBe(false);
  });

  it('accepts shutdown from loopback only, unless configured', async () => {
    let shutdowns = 0;
    const server = setup({ onShutdown: () => shutdowns++ });
    const remote = new Wire(server, '192.0.2.1');
    remote.sendRaw('shutdown\n');
    expect(await remote.text('\r\n')).toBe(
      'ERR PERMISSION_DENIED shutdown+is+only+accepted+from+loopback\r\n',
    );
    const local = new Wire(server, '127.0.0.1');
    local.sendRaw('shutdown graceful\n');
    expect(await local.text('\r\n')).toBe('OK\r\n');
    await local.until(() => shutdowns === 1);
    expect(server.jobServer.closed).toBe(true);
  });
  it('answers retry job in its place while the store writes, and refuses an unknown handle', async () => {
    const slow = gatedStore();
    const server = setup({}, { store: slow.store });
    const c = new Wire(server);
    c.send({ type: 'SUBMIT_JOB_BG', functionName: 'f', unique: 'dead', data: b('p') });
    expect(await c.packetsAfter(1)).toEqual([{ type: 'JOB_CREATED', handle: 'H:t:1' }]);
    const w = new Wire(server);
    w.send({ type: 'CAN_DO', functionName: 'f' }, { type: 'GRAB_JOB' });
    await w.packetsAfter(1);
    // The echo comes back after the failure was handled.
    w.send({ type: 'WORK_FAIL', handle: 'H:t:1' }, { type: 'ECHO_REQ', data: b('done') });
    await w.until(() => w.packets.some((p) => p.type === 'ECHO_RES'));
    expect(await server.jobServer.outcome('H:t:1')).toMatchObject({ state: 'failed' });
    slow.close();
    const admin = new Wire(server);
    admin.sendRaw('retry job H:t:1\r\nretry job H:t:9\r\nversion\r\n');
    await Wire.settle();
    // Nothing overtakes the answer that waits for the store.
    expect(admin.raw.toString()).toBe('');
    slow.open();
    await admin.until(() => admin.raw.toString().split('\n').length === 4);
    expect(admin.raw.toString()).toMatch(
      /^OK\r\nERR NO_SUCH_JOB no\+failed\+job\+is\+kept\+under\+that\+handle\r\nOK \S+\n$/,
    );
  });

  it('keeps the place of a reply that comes later, and runs the next command after it', async () => {
    const server = setup();
    const c = new Wire(server);
    c.send({ type: 'SUBMIT_JOB_BG', functionName: 'f', unique: '', data: b('') });
    await c.packetsAfter(1);
    // `cancel` answers a turn later, as a shared queue does; `jobs` answers at once.
    const late = answeringLater(server.jobServer, ['cancel']);
    const admin = new Wire(server);
    admin.sendRaw('cancel job H:t:1\r\nversion\r\nshow jobs\r\n');
    admin.send({ type: 'ECHO_REQ', data: b('after') });
    await Wire.settle();
    // Nothing overtakes the answer that waits, a binary reply neither.
    expect(admin.raw.length).toBe(0);
    late.release();
    await admin.packetsAfter(1);
    const echo = Buffer.concat([hex('00524553 00000011 00000005'), b('after')]);
    // `show jobs` ran once the cancel had: the job is gone.
    expect(admin.raw).toEqual(Buffer.concat([b('OK\r\nOK 0.1.0\n.\n'), echo]));
  });

  it('answers a change the job server fails with an ERR in its place, and goes on', async () => {
    const server = setup();
    await server.jobServer.createFunction('f');
    const late = answeringLater(server.jobServer, ['pause'], new Error('backend unreachable'));
    const admin = new Wire(server);
    admin.sendRaw('pause f\r\nversion\r\n');
    await Wire.settle();
    expect(admin.raw.length).toBe(0);
    late.release();
    expect(await admin.text('OK 0.1.0\n')).toBe(
      'ERR QUEUE_ERROR backend+unreachable\r\nOK 0.1.0\n',
    );
    expect(admin.closed).toBe(false);
  });

  it('pauses, limits and schedules through admin commands; existing replies unchanged', async () => {
    const server = setup();
    const admin = new Wire(server);
    const lines = async (text: string, count: number) => {
      const start = admin.raw.length;
      admin.sendRaw(text);
      await admin.until(() => admin.raw.subarray(start).toString().split('\n').length > count);
      return admin.raw.subarray(start).toString();
    };
    expect(await lines('create function mail\r\ncreate function pay\r\n', 2)).toBe('OK\r\nOK\r\n');
    expect(await lines('pause mail\r\n', 1)).toBe('OK\r\n');
    expect(await lines('limit pay rate=10/1s,concurrency=3\r\n', 1)).toBe('OK\r\n');
    expect(await lines('limit pay\r\n', 1)).toBe('OK rate=10/1000,concurrency=3\n');
    expect(await lines('limit pay rate=ten\r\n', 1)).toMatch(/^ERR INVALID_ARGUMENTS rate\+is/);
    expect(await lines('show functions\r\n', 3)).toBe(
      'mail\tpaused\tnone\npay\tactive\trate=10/1000,concurrency=3\n.\n',
    );
    expect(await server.jobServer.paused('mail')).toBe(true);
    expect(await lines('resume mail\r\n', 1)).toBe('OK\r\n');
    expect(await lines('show functions\r\n', 2)).toBe(
      'pay\tactive\trate=10/1000,concurrency=3\n.\n',
    );
    // gearmand's own listings are as they were: a paused or limited function shows in
    // `status` only as gearmand would show it.
    expect(await lines('status\r\n', 3)).toBe('mail\t0\t0\t0\npay\t0\t0\t0\n.\n');

    expect(
      await lines(
        'schedule add sweep cleanup cron=0+*%2F5+*+*+*+*&tz=Europe/Berlin&priority=low\r\n',
        1,
      ),
    ).toBe('OK\r\n');
    expect((await server.jobServer.schedules())[0]).toMatchObject({
      id: 'sweep',
      cron: '0 */5 * * * *',
      timezone: 'Europe/Berlin',
      priority: 'low',
    });
    expect(await lines('schedule add bad f cron=nonsense\r\n', 1)).toMatch(
      /^ERR INVALID_ARGUMENTS invalid\+cron\+expression/,
    );
    expect(await lines('schedule add bad f every=1000&colour=blue\r\n', 1)).toMatch(
      /^ERR INVALID_ARGUMENTS unknown\+setting\+'colour'/,
    );
    expect(await lines('show schedules\r\n', 2)).toMatch(
      /^sweep\tcleanup\tcron=0 \*\/5 \* \* \* \*\tEurope\/Berlin\tnext=\S+Z\tlast=-\n\.\n$/,
    );
    expect(await lines('schedule remove sweep\r\nschedule remove sweep\r\n', 2)).toBe(
      'OK\r\nERR NO_SUCH_SCHEDULE no+schedule+has+that+id\r\n',
    );
    expect(await lines('show schedules\r\n', 1)).toBe('.\n');
  });

  it("lists the queue's nodes with show nodes: on the local queue, this server, marked self", async () => {
    const server = setup();
    const admin = new Wire(server);
    server.jobServer.worker().register('resize', () => 'ok');
    admin.sendRaw('show nodes\r\n');
    const reply = await admin.text('.\n');
    expect(reply).toMatch(
      /^[0-9a-f-]{36}\t\S+\tstarted=\S+Z\theartbeat=0ms\trunning=0\tfunctions=resize\tself\n\.\n$/,
    );
  });
});

describe('geartrain’s admin additions', () => {
  /** Sends `text` and waits for the reply that ends with `end`; returns what came after `start`. */
  const ask = async (admin: Wire, text: string, end: string) => {
    const start = admin.raw.length;
    admin.sendRaw(text);
    await admin.until(() => admin.raw.subarray(start).toString().endsWith(end));
    return admin.raw.subarray(start).toString();
  };

  it('shows the last error of each dead letter, as column text', async () => {
    const server = setup();
    const c = new Wire(server);
    c.send(
      { type: 'SUBMIT_JOB_BG', functionName: 'pay', unique: '', data: b('1') },
      { type: 'SUBMIT_JOB_BG', functionName: 'pay', unique: '', data: b('2') },
    );
    await c.packetsAfter(2);
    const w = new Wire(server);
    w.send({ type: 'CAN_DO', functionName: 'pay' }, { type: 'GRAB_JOB' }, { type: 'GRAB_JOB' });
    await w.packetsAfter(2);
    // The echo comes back after both ends were handled.
    w.send(
      { type: 'WORK_EXCEPTION', handle: 'H:t:1', data: b('declined:\t100% +\r\n.\nok') },
      { type: 'WORK_FAIL', handle: 'H:t:2' },
      { type: 'ECHO_REQ', data: b('done') },
    );
    await w.until(() => w.packets.some((p) => p.type === 'ECHO_RES'));
    expect(await server.jobServer.outcomeCount()).toBe(2);
    const admin = new Wire(server);
    const lines = (await ask(admin, 'show failed pay\r\n', '.\n')).split('\n');
    // A tab, a line end or a `.` line in a message cannot break the listing.
    expect(lines.map((line) => line.split('\t'))).toEqual([
      [
        'H:t:1',
        'pay',
        '1',
        'EXCEPTION',
        expect.stringMatching(/Z$/),
        'declined:%09100%25+%2B%0D%0A.%0Aok',
      ],
      ['H:t:2', 'pay', '1', 'WORK_FAIL', expect.stringMatching(/Z$/), '-'],
      ['.'],
      [''],
    ]);
    // Column text is form encoding: any URL decoder reads the message back.
    const column = lines[0]!.split('\t')[5]!;
    expect(new URLSearchParams(`m=${column}`).get('m')).toBe('declined:\t100% +\r\n.\nok');
  });

  it('shows one job, live or kept, with each attempt’s error; ERR for an unknown handle', async () => {
    const server = setup();
    const admin = new Wire(server);
    expect(await ask(admin, 'policy pay attempts=2,keep-completed=5\r\n', '\r\n')).toBe('OK\r\n');
    const c = new Wire(server);
    c.send(
      { type: 'SUBMIT_JOB_HIGH_BG', functionName: 'pay', unique: '', data: b('card 1') },
      { type: 'SUBMIT_JOB_BG', functionName: 'pay', unique: '', data: b('card 22') },
    );
    await c.packetsAfter(2);
    expect(await ask(admin, 'show job H:t:2\r\n', '.\n')).toBe(
      'state\tqueued\nfunction\tpay\npriority\tnormal\nattempts\t0\npayload\t7\n.\n',
    );
    const w = new Wire(server);
    w.send({ type: 'CAN_DO', functionName: 'pay' }, { type: 'GRAB_JOB' });
    await w.packetsAfter(1);
    w.send(
      { type: 'WORK_EXCEPTION', handle: 'H:t:1', data: b('card declined') },
      { type: 'ECHO_REQ', data: b('1') },
    );
    await w.until(() => w.packets.some((p) => p.type === 'ECHO_RES'));
    expect(await server.jobServer.job('H:t:1')).toMatchObject({ state: 'queued' });
    // Waiting for its second attempt: the first one's error.
    expect(await ask(admin, 'show job H:t:1\r\n', '.\n')).toMatch(
      /^state\tqueued\nfunction\tpay\npriority\thigh\nattempts\t1\npayload\t6\nerror\t1\tEXCEPTION\t\S+Z\t-\tcard\+declined\n\.\n$/,
    );
    w.send({ type: 'GRAB_JOB' });
    await w.packetsAfter(3);
    expect(await ask(admin, 'show job H:t:1\r\n', '.\n')).toMatch(
      /^state\trunning\n.*\nattempts\t2\n/s,
    );
    w.send({ type: 'WORK_FAIL', handle: 'H:t:1' }, { type: 'GRAB_JOB' });
    await w.packetsAfter(4);
    w.send(
      { type: 'WORK_COMPLETE', handle: 'H:t:2', data: b('receipt') },
      { type: 'ECHO_REQ', data: b('2') },
    );
    await w.packetsAfter(5);
    expect(await server.jobServer.outcomeCount()).toBe(2);
    expect(await ask(admin, 'show job H:t:1\r\n', '.\n')).toMatch(
      /^state\tfailed\nfunction\tpay\npriority\thigh\nattempts\t2\npayload\t6\n(error\t1\t.*\n)error\t2\tWORK_FAIL\t\S+Z\t-\t-\n\.\n$/,
    );
    expect(await ask(admin, 'show job H:t:2\r\n', '.\n')).toBe(
      'state\tcompleted\nfunction\tpay\npriority\tnormal\nattempts\t1\nresult\t7\n.\n',
    );
    expect(await ask(admin, 'show job H:t:9\r\n', '\r\n')).toBe(
      'ERR NO_SUCH_JOB no+live+job+or+kept+outcome+has+that+handle\r\n',
    );
  });

  it('lists every command in help, one line each, and each line’s syntax is a command', async () => {
    const server = setup();
    const admin = new Wire(server);
    const text = await ask(admin, 'help\r\n', '.\n');
    const lines = text.split('\n').slice(0, -2);
    expect(text.endsWith('\n.\n')).toBe(true);
    for (const line of lines) expect(line).toMatch(/^[a-z][^\t]*\t[^\t]+$/);
    const syntax = lines.map((line) => line.split('\t')[0]!);
    // gearmand's commands first, then geartrain's, as gearadmin users look for them.
    expect(syntax.slice(0, 3)).toEqual(['status', 'prioritystatus', 'workers']);
    expect(syntax).toContain('show job H');
    expect(syntax).toContain('help');
    // Each one, its placeholders filled, its optional parts left out and the first of its
    // alternatives taken, is understood; from another host, exactly those that say so are
    // loopback only.
    const remote = new Wire(server, '192.0.2.1');
    for (const line of lines) {
      const [form, what] = line.split('\t') as [string, string];
      if (form.startsWith('shutdown')) continue; // it would stop the server
      const command = form
        .replace(/ \[.*\]$/, '')
        .replace(/([^ |]+)\|\S+/, '$1')
        .replace(/\bH\b/, 'H:t:1')
        .replace(/\bFN\b/, 'f')
        .replace(/\bID\b/, 'x')
        .replace(/\bSPEC\b/, 'every=1000');
      const reply = await ask(admin, `${command}\r\n`, '\n');
      expect(reply, command).not.toMatch(/^ERR (UNKNOWN_COMMAND|UNKNOWN_SHOW_ARGUMENTS|INVALID)/);
      const denied = (await ask(remote, `${command}\r\n`, '\n')).startsWith(
        'ERR PERMISSION_DENIED',
      );
      expect(denied, command).toBe(what.endsWith('(loopback only)'));
    }
  });

  it('answers a name the job server refuses with ERR, and the connection goes on', async () => {
    const server = setup();
    const admin = new Wire(server);
    // It used to throw out of the command and drop the connection without a word.
    expect(await ask(admin, 'create function a\0b\r\nversion\r\n', 'OK 0.1.0\n')).toBe(
      'ERR INVALID_ARGUMENTS function+name+must+not+contain+a+NUL+byte\r\nOK 0.1.0\n',
    );
    expect(admin.closed).toBe(false);
  });

  it('pauses, resumes and limits only a function that exists (or is paused or limited)', async () => {
    const server = setup();
    const admin = new Wire(server);
    const refused =
      'ERR NO_SUCH_FUNCTION no+function+is+named+nosuch:+create+function+nosuch+first\r\n';
    expect(await ask(admin, 'pause nosuch\r\n', '\r\n')).toBe(refused);
    expect(await ask(admin, 'resume nosuch\r\n', '\r\n')).toBe(refused);
    expect(await ask(admin, 'limit nosuch concurrency=1\r\n', '\r\n')).toBe(refused);
    expect(await ask(admin, 'limit nosuch\r\n', '\n')).toBe('OK none\n');
    // Nothing was made: no function, no control.
    expect(await ask(admin, 'show functions\r\nstatus\r\n', '.\n.\n')).toBe('.\n.\n');
    expect(await ask(admin, 'create function nosuch\r\npause nosuch\r\n', 'OK\r\nOK\r\n')).toBe(
      'OK\r\nOK\r\n',
    );
    expect(await server.jobServer.paused('nosuch')).toBe(true);
    // A paused function stays known to resume, even once dropped.
    expect(await ask(admin, 'drop function nosuch\r\nresume nosuch\r\n', 'OK\r\nOK\r\n')).toBe(
      'OK\r\nOK\r\n',
    );
    expect(await server.jobServer.paused('nosuch')).toBe(false);
    // A function known from its worker or its jobs needs no create.
    const c = new Wire(server);
    c.send({ type: 'SUBMIT_JOB_BG', functionName: 'mail', unique: '', data: b('') });
    await c.packetsAfter(1);
    expect(await ask(admin, 'pause mail\r\n', '\r\n')).toBe('OK\r\n');
    // So does one with a schedule (before its first tick) or a policy.
    expect(
      await ask(
        admin,
        'schedule add nightly report every=3600000\r\npolicy charge attempts=3\r\n',
        'OK\r\nOK\r\n',
      ),
    ).toBe('OK\r\nOK\r\n');
    expect(await ask(admin, 'pause report\r\npause charge\r\n', 'OK\r\nOK\r\n')).toBe(
      'OK\r\nOK\r\n',
    );
  });
});

describe('who may change the server over the admin port', () => {
  const ask = async (admin: Wire, text: string, end: string) => {
    const start = admin.raw.length;
    admin.sendRaw(text);
    await admin.until(() => admin.raw.subarray(start).toString().endsWith(end));
    return admin.raw.subarray(start).toString();
  };
  const denied = (command: string) =>
    `ERR PERMISSION_DENIED ${command}+is+only+accepted+from+loopback;+allowRemoteAdmin:+true+(geartrain+serve+--allow-remote-admin)+accepts+it+from+other+hosts\r\n`;
  /** Every change of geartrain's own, each valid, with what it is refused as. */
  const changes: [string, string][] = [
    ['retry job H:t:1', 'retry+job'],
    ['discard job H:t:1', 'discard+job'],
    ['discard failed f', 'discard+failed'],
    ['policy f attempts=2', 'policy'],
    ['pause f', 'pause'],
    ['resume f', 'resume'],
    ['limit f concurrency=1', 'limit'],
    ['schedule add s f every=60000', 'schedule+add'],
    ['schedule remove s', 'schedule+remove'],
  ];

  it('refuses geartrain’s own changes from another host, with how to allow them', async () => {
    const server = setup();
    await server.jobServer.createFunction('f');
    const remote = new Wire(server, '192.0.2.1');
    for (const [line, name] of changes) {
      expect(await ask(remote, `${line}\r\n`, '\r\n'), line).toBe(denied(name));
    }
    expect(await server.jobServer.paused('f')).toBe(false);
    expect(await server.jobServer.jobPolicy('f')).toBeNull();
    // Reading is for anyone: policies, limits, listings, one job, help.
    expect(await ask(remote, 'policy f\r\n', '\n')).toBe('OK none\n');
    expect(await ask(remote, 'limit f\r\n', '\n')).toBe('OK none\n');
    expect(await ask(remote, 'show failed\r\nshow functions\r\n', '.\n.\n')).toBe('.\n.\n');
    expect(await ask(remote, 'help\r\n', '.\n')).toMatch(/^status\t/);
    // gearmand's own commands are as gearmand has them: anyone's.
    remote.send({ type: 'SUBMIT_JOB_BG', functionName: 'f', unique: '', data: b('') });
    await remote.packetsAfter(1);
    expect(await ask(remote, 'cancel job H:t:1\r\nmaxqueue f 5\r\n', 'OK\r\nOK\r\n')).toBe(
      'OK\r\nOK\r\n',
    );
    // From loopback, each is accepted.
    const local = new Wire(server, '::1');
    expect(await ask(local, 'pause f\r\n', '\r\n')).toBe('OK\r\n');
  });

  it('accepts them from anywhere with allowRemoteAdmin', async () => {
    const server = setup({ allowRemoteAdmin: true });
    await server.jobServer.createFunction('f');
    const remote = new Wire(server, '192.0.2.1');
    for (const [line] of changes) {
      expect(await ask(remote, `${line}\r\n`, '\n'), line).not.toMatch(/PERMISSION_DENIED/);
    }
    expect(await server.jobServer.jobPolicy('f')).toMatchObject({ attempts: 2 });
    expect(await server.jobServer.controls()).toEqual([
      { functionName: 'f', paused: false, rate: null, concurrency: 1 },
    ]);
    // shutdown keeps its own option.
    expect(await ask(remote, 'shutdown\r\n', '\r\n')).toBe(
      'ERR PERMISSION_DENIED shutdown+is+only+accepted+from+loopback\r\n',
    );
  });
});
