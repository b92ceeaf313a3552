// The oracle: per case, every problem with what the child reported, what the
// receiver got and what happened to the fds (the list in
// test/reliability/env-fuzz.test.ts's header), one line each.
import type { Case, Run } from './cases.js';
import { ABSENT_NAME, CASE_TIMEOUT_MS, VARIABLES } from './config.js';
import {
  errnoOf,
  journalModel,
  listenModel,
  notifyModel,
  same,
  show,
  watchdogModel,
  type FdState,
  type Json,
  type ListenExpect,
  type Outcome,
  type WatchdogExpect,
} from './models.js';
import type { World } from './world.js';

export function check(world: World, c: Case, run: Run): string[] {
  const problems: string[] = [];
  const fail = (area: string, text: string): void => void problems.push(`[${area}] ${text}`);

  if (run.timedOut) fail('process', `hung: killed after ${CASE_TIMEOUT_MS} ms`);
  if (run.code !== 0 || run.signal !== null) fail('process', `exit code ${run.code}, signal ${run.signal}`);
  const lines = run.stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) {
    fail('process', `expected one JSON line on stdout, got ${lines.length}; stderr: ${show(run.stderr)}`);
    return problems;
  }
  const report = JSON.parse(lines[0]!);
  const pid: number = report.pid;
  const env: Record<string, string> = report.env;
  if (pid !== run.pid) fail('setup', `child says pid ${pid}, spawn said ${run.pid}`);
  for (const name of VARIABLES) {
    const sent = c.env[name];
    if ((sent === undefined) !== !(name in env)) fail('setup', `${name} presence differs between parent and child`);
    if (sent !== undefined && !sent.includes('{') && env[name] !== sent)
      fail('setup', `${name} arrived as ${show(env[name])}, sent ${show(sent)}`);
  }
  const before: Record<string, FdState> = report.before;
  const after: Record<string, FdState> = report.after;

  // --- listenFds()
  const model = listenModel(env, pid, report.pidfdId, before);
  const checkListen = (label: string, outcome: Outcome, expect: ListenExpect): void => {
    if (!('ok' in outcome)) return fail('listenFds', `${label} threw ${show(outcome.threw)}`);
    const got = outcome.ok;
    if (got.status !== expect.status)
      return fail('listenFds', `${label}: status ${show(got.status)} (${show(got.reason ?? got.variable)}), expected ${show(expect)}`);
    if (expect.status === 'not-activated') {
      if (!same(got, { status: 'not-activated', reason: expect.reason, fds: [] }))
        fail('listenFds', `${label}: ${show(got)}, expected reason ${expect.reason}`);
    } else if (expect.status === 'malformed') {
      const e = got.error ?? {};
      const keysOk = same(Object.keys(got).sort(), ['error', 'fds', 'status', 'variable']);
      if (
        !keysOk ||
        got.variable !== expect.variable ||
        !same(got.fds, []) ||
        e.isError !== true ||
        e.variable !== expect.variable ||
        e.code !== expect.code ||
        e.errno !== errnoOf(expect.code)
      ) {
        fail('listenFds', `${label}: ${show(got)}, expected malformed ${expect.variable} ${expect.code}`);
      } else if (
        typeof e.message !== 'string' ||
        !e.message.startsWith(`${expect.variable}=`) ||
        (expect.message && !expect.message.test(e.message))
      ) {
        fail(
          'listenFds',
          `${label}: message ${show(e.message)} does not name ${expect.variable}${expect.message ? ` as ${expect.message}` : ''}`,
        );
      }
    } else {
      if (!same(Object.keys(got).sort(), ['fds', 'status']) || !Array.isArray(got.fds) || got.fds.length !== expect.count) {
        return fail('listenFds', `${label}: ${show(got)}, expected ${expect.count} fds`);
      }
      got.fds.forEach((fd: Json, i: number) => {
        const n = 3 + i;
        let info: Record<string, unknown> | undefined;
        if (i < c.handed.length) {
          const h = world.handed[c.handed[i]!]!;
          info = h.info;
          if (before[n]?.dev !== h.dev || before[n]?.ino !== h.ino) fail('setup', `fd ${n} in the child is not the ${h.label} handed over`);
        } else {
          const link = before[n]?.link ?? '';
          if (link.startsWith('pipe:')) info = { kind: 'fifo', listening: false };
          else if (link.startsWith('anon_inode:')) info = { kind: 'other', listening: false };
          else if (link === '/dev/null') info = { kind: 'character-device', listening: false };
        }
        if (info) {
          if (!same(fd, { fd: n, name: expect.names[i], ...info }))
            fail('listenFds', `${label}: fd ${n} is ${show(fd)}, expected ${show({ fd: n, name: expect.names[i], ...info })}`);
        } else if (fd.fd !== n || fd.name !== expect.names[i] || typeof fd.kind !== 'string' || typeof fd.listening !== 'boolean') {
          fail('listenFds', `${label}: fd ${n} is ${show(fd)}, expected fd ${n} named ${show(expect.names[i])}`);
        }
      });
    }
  };
  const L = report.listen;
  checkListen('listenFds()', L.A, model.expect);
  checkListen('listenFds({ unsetEnv: true })', L.B, model.expect);
  if (!same(L.envAfterUnset, {})) fail('listenFds', `unsetEnv left ${show(L.envAfterUnset)}`);
  checkListen('listenFds() after unsetEnv', L.C, { status: 'not-activated', reason: 'no-listen-pid' });

  // --- adoption by a name that was never passed
  const A = L.A.ok;
  const checkAdopt = (
    label: string,
    outcome: Outcome & { sameErrorObject?: boolean },
    want: { value: null } | { message: string | RegExp; type?: string; sameError?: boolean },
  ): void => {
    if ('value' in want) {
      if (!('ok' in outcome) || outcome.ok !== null) fail('adopt', `${label}: ${show(outcome)}, expected null`);
      return;
    }
    const e = outcome.threw;
    const okMessage = e && (typeof want.message === 'string' ? e.message === want.message : want.message.test(e.message));
    if (!e || !okMessage || (want.type && e.ctor !== want.type) || (want.sameError && outcome.sameErrorObject !== true)) {
      fail(
        'adopt',
        `${label}: ${show(outcome)}, expected ${want.type ?? 'an Error'} ${want.message}${want.sameError ? " (listenFds()'s own Error)" : ''}`,
      );
    }
  };
  if (A) {
    const X = report.adopt;
    const passed =
      A.status === 'activated' ? A.fds.map((fd: Json) => `fd ${fd.fd} (name ${JSON.stringify(fd.name)}, kind ${fd.kind})`).join(', ') : '';
    const missing = (call: string): string => `${call}: no fd named ${JSON.stringify(ABSENT_NAME)} was passed; passed: ${passed}`;
    const envOutcome = A.status === 'malformed' ? { message: A.error.message } : { value: null };
    checkAdopt('adoptConnection({ name, optional }) from process.env', L.adoptEnv, envOutcome);
    checkAdopt('adoptConnection({ name, optional }) after unsetEnv (remembered)', X.rememberedEnv, envOutcome);
    if (A.status === 'malformed') {
      for (const key of ['connection', 'connectionOptional', 'listen', 'bindDgram'])
        checkAdopt(key, X[key], { message: A.error.message, sameError: true });
    } else if (A.status === 'not-activated') {
      checkAdopt('adoptConnection', X.connection, { value: null });
      checkAdopt('adoptConnection optional', X.connectionOptional, { value: null });
      checkAdopt('listen', X.listen, { message: `listen(): not socket-activated (${A.reason}), and no fallback address was given` });
      checkAdopt('bindDgram', X.bindDgram, {
        message: `bindDgram(): not socket-activated (${A.reason}), and no fallback address was given`,
      });
    } else {
      checkAdopt('adoptConnection', X.connection, { message: missing('adoptConnection()') });
      checkAdopt('adoptConnection optional', X.connectionOptional, { value: null });
      checkAdopt('listen', X.listen, { message: missing('listen()') });
      checkAdopt('bindDgram', X.bindDgram, { message: missing('bindDgram()') });
    }
    checkAdopt('adoptConnection("bad:name")', X.invalidName, { message: /"bad:name" is not a valid fd name/, type: 'TypeError' });
  }

  // --- fds: identity, FD_CLOEXEC, the sentinel, leaks
  const returned = new Set<number>(A?.status === 'activated' ? A.fds.map((fd: Json) => fd.fd) : []);
  if (c.sentinelAt < model.claimEnd) fail('setup', `the sentinel fd ${c.sentinelAt} lies in the claimed range (no gap before it)`);
  const s = before[c.sentinelAt];
  if (!s || s.dev !== world.sentinel.dev || s.ino !== world.sentinel.ino) fail('setup', `fd ${c.sentinelAt} is not the sentinel`);
  // Past the gap, Node's start-up does not set FD_CLOEXEC: the sentinel starts without it, so any claim would show.
  else if (s.cloexec) fail('setup', 'the sentinel is FD_CLOEXEC before any call');
  for (const [key, b] of Object.entries(before)) {
    const fd = Number(key);
    const a = after[key];
    if (!a) {
      fail('fds', `fd ${fd} (${b.link}) was closed`);
      continue;
    }
    if (a.dev !== b.dev || a.ino !== b.ino) fail('fds', `fd ${fd} was replaced: ${b.link} -> ${a.link}`);
    if (a.cloexec !== b.cloexec) {
      const claimed = fd >= 3 && fd < model.claimEnd;
      if (!claimed || !a.cloexec)
        fail(
          'fds',
          `FD_CLOEXEC of fd ${fd} (${b.link}) changed ${b.cloexec} -> ${a.cloexec}${fd === c.sentinelAt ? ' on the sentinel' : ''}; claimable: [3, ${model.claimEnd})`,
        );
    }
  }
  for (const fd of returned) if (after[fd]?.cloexec !== true) fail('fds', `returned fd ${fd} is not FD_CLOEXEC afterwards`);
  const added = Object.keys(after).filter((k) => !(k in before));
  const badAdded = added.filter((k) => !after[k]!.link.startsWith('socket:') || !after[k]!.cloexec);
  if (added.length > 1 || badAdded.length > 0)
    fail('fds', `new fds left open: ${show(added.map((k) => ({ fd: Number(k), ...after[k] })))}`);

  // --- watchdog
  const W = report.watchdog;
  const wModel = watchdogModel(env, pid);
  const checkW = (label: string, outcome: Outcome, expect: WatchdogExpect): void => {
    if (!('ok' in outcome)) return fail('watchdog', `${label} threw ${show(outcome.threw)}`);
    const got = outcome.ok;
    if (expect.enabled) {
      const timeoutMs = Number(expect.usec) / 1000;
      if (!same(got, { enabled: true, usec: `${expect.usec}n`, timeoutMs }))
        fail('watchdog', `${label}: ${show(got)}, expected enabled with ${expect.usec} usec`);
    } else if (expect.reason === 'invalid') {
      const ok =
        same(Object.keys(got).sort(), ['enabled', 'error', 'reason']) &&
        got.enabled === false &&
        got.reason === 'invalid' &&
        got.error?.isError === true &&
        /WATCHDOG_(USEC|PID)=/.test(got.error.message);
      if (!ok) fail('watchdog', `${label}: ${show(got)}, expected invalid with an Error naming the variable`);
    } else if (!same(got, { enabled: false, reason: expect.reason })) {
      fail('watchdog', `${label}: ${show(got)}, expected ${expect.reason}`);
    }
  };
  checkW('watchdogEnabled()', W.W1, wModel);
  checkW('watchdogEnabled({ unsetEnv: true })', W.W2, wModel);
  if (!same(W.envAfterUnset, {})) fail('watchdog', `unsetEnv left ${show(W.envAfterUnset)}`);
  checkW('watchdogEnabled() after unsetEnv', W.W3, { enabled: false, reason: 'disabled' });

  // --- notify
  const nModel = notifyModel(env.NOTIFY_SOCKET, c.notifyExpect);
  const ns = env.NOTIFY_SOCKET;
  const expectedTexts: Array<{ text: string; fds: string[] }> = [];
  const checkSend = (label: string, outcome: Outcome, text: string, fds: string[] = []): void => {
    if (!('ok' in outcome)) return fail('notify', `${label} threw ${show(outcome.threw)}`);
    const got = outcome.ok;
    const namesSocket = (e: Json): boolean =>
      typeof e?.message === 'string' && (e.message.includes(ns!) || e.message.includes(JSON.stringify(ns)));
    const failedShape = (reason: string): boolean =>
      same(Object.keys(got).sort(), ['error', 'reason', 'sent', 'socket']) &&
      got.sent === false &&
      got.reason === reason &&
      got.socket === ns &&
      got.error?.isError === true &&
      namesSocket(got.error);
    switch (nModel.kind) {
      case 'disabled':
        if (!same(got, { sent: false, reason: 'disabled' })) fail('notify', `${label}: ${show(got)}, expected disabled`);
        break;
      case 'invalid':
        if (!failedShape('invalid-address')) fail('notify', `${label}: ${show(got)}, expected invalid-address naming the socket`);
        break;
      case 'unsupported':
        if (!failedShape('unsupported') && (nModel.strict || !failedShape('invalid-address')))
          fail('notify', `${label}: ${show(got)}, expected unsupported (vsock)`);
        break;
      case 'failed':
        if (
          !failedShape('send-failed') ||
          got.error.code !== nModel.code ||
          got.error.errno !== errnoOf(nModel.code) ||
          got.error.syscall !== 'sendmsg'
        ) {
          fail('notify', `${label}: ${show(got)}, expected send-failed ${nModel.code} from sendmsg naming the socket`);
        }
        break;
      case 'sent':
        if (!same(got, { sent: true, socket: ns, bytes: Buffer.byteLength(text, 'utf8'), withCredentials: false }))
          fail('notify', `${label}: ${show(got)}, expected sent (${Buffer.byteLength(text)} bytes)`);
        // What the child claims it sent is what the receiver must have.
        if (got.sent === true) expectedTexts.push({ text, fds });
        break;
    }
  };

  // The keeper: running exactly when enabled, pings within its interval, one warning for failures.
  const K = W.keeper;
  if (K.threw) fail('watchdog', `startWatchdog() threw ${show(K.threw)}`);
  else {
    const enabled = wModel.enabled;
    const timeoutMs = enabled ? Number(wModel.usec) / 1000 : 0;
    if (K.running !== enabled || K.timeoutMs !== timeoutMs || !same(K.status, W.W1.ok))
      fail(
        'watchdog',
        `startWatchdog(): running ${K.running}, timeoutMs ${K.timeoutMs}, status ${show(K.status)}; expected running ${enabled}, timeoutMs ${timeoutMs}`,
      );
    if (K.runningAfterStop !== false) fail('watchdog', 'still running after stop()');
    const pings: Json[] = W.pings;
    if (enabled) {
      const interval = Math.max(1, Math.floor(timeoutMs * 0.5));
      const most = 2 + Math.floor(K.elapsedMs / interval);
      if (pings.length < 1) fail('watchdog', 'no ping at start');
      if (pings.length > most)
        fail('watchdog', `${pings.length} pings in ${K.elapsedMs.toFixed(1)} ms with a ${interval} ms interval (at most ${most})`);
    } else if (pings.length !== 0) fail('watchdog', `${pings.length} pings while disabled`);
    pings.forEach((event, i) => {
      if (event.kind !== 'ping') return fail('watchdog', `ping event ${i}: ${show(event)}`);
      checkSend(`watchdog ping ${i}`, { ok: event.result }, 'WATCHDOG=1');
    });
    // Failed pings are said by notify() (checked with stderr below), not by the keeper.
    const records: string[] = W.records;
    if (records.length !== 0) fail('watchdog', `log records ${show(records)}, expected none`);
  }

  const N = report.notify;
  checkSend('notify({ STATUS, X_FUZZ })', N.fields, `STATUS=fuzz ${c.index}\nX_FUZZ=${c.index}`);
  checkSend('ready()', N.ready, 'READY=1');
  checkSend('status(text)', N.status, `STATUS=${c.statusText}`);
  checkSend('watchdogPing()', N.ping, 'WATCHDOG=1');
  if (nModel.kind === 'sent' && nModel.hold) {
    // The manager keeps the barrier fd past the timeout (BARRIER_HELD_MS): ETIMEDOUT naming the socket.
    const e = N.barrier.threw;
    if (e?.code !== 'ETIMEDOUT' || e.errno !== errnoOf('ETIMEDOUT') || !String(e.message).includes(ns!))
      fail('notify', `barrier(): ${show(N.barrier)}, expected a rejection with ETIMEDOUT naming the socket`);
    expectedTexts.push({ text: 'BARRIER=1', fds: ['fifo'] });
  } else {
    checkSend('barrier()', N.barrier, 'BARRIER=1', ['fifo']);
  }
  checkSend('notify(READY=1, { unsetEnv: true })', N.unset, 'READY=1');
  if (!same(N.envAfterUnset, {})) fail('notify', `unsetEnv left ${show(N.envAfterUnset)}`);
  if (!same(N.afterUnset, { ok: { sent: false, reason: 'disabled' } }))
    fail('notify', `notify() after unsetEnv: ${show(N.afterUnset)}, expected disabled`);

  // --- what the receiver got from this pid, against what the child claims it
  // sent (in call order: the keeper's pings, then the notify calls)
  const claimed = expectedTexts;
  const got = run.datagrams.map((d) => ({
    text: d.data.toString('utf8'),
    raw: d.data,
    fds: d.fds,
    sock: d.sock,
    uid: d.uid,
    gid: d.gid,
    trunc: d.trunc || d.ctrunc,
  }));
  const want = claimed.map((e) => e.text);
  if (
    !same(
      got.map((d) => d.text),
      want,
    ) ||
    !same(
      got.map((d) => d.fds),
      claimed.map((e) => e.fds),
    )
  ) {
    fail('receiver', `received ${show(got.map((d) => [d.text, d.fds]))}, the child claims ${show(claimed.map((e) => [e.text, e.fds]))}`);
  }
  for (const d of got) {
    if (nModel.kind !== 'sent' || d.sock !== nModel.sock)
      fail('receiver', `datagram on socket ${d.sock}, expected ${nModel.kind === 'sent' ? nModel.sock : 'none'}`);
    if (d.uid !== process.getuid!() || d.gid !== process.getgid!() || d.trunc)
      fail('receiver', `datagram credentials/truncation: ${show(d)}`);
    if (!d.raw.equals(Buffer.from(d.text, 'utf8'))) fail('receiver', 'datagram is not valid UTF-8 of what was sent');
  }

  // --- logging
  const J = report.journal;
  const m2 = journalModel(env.JOURNAL_STREAM, before[2]);
  const m1 = journalModel(env.JOURNAL_STREAM, before[1]);
  const want2 = { fd2: m2, fd1: m1, stderrLogger: m2, stdoutLogger: m1, defaultLog: m2 };
  for (const [key, value] of Object.entries(want2)) {
    if (!same(J[key], { ok: value }))
      fail(
        'journal',
        `${key}: ${show(J[key])}, expected ${value} (JOURNAL_STREAM=${show(env.JOURNAL_STREAM)}, fd 1 ${before[1]?.dev}:${before[1]?.ino}, fd 2 ${before[2]?.dev}:${before[2]?.ino})`,
      );
  }
  const marker = `fuzz-marker ${c.index}\n`;
  const wantStderr = m2 ? `<6>${marker}` : marker;
  // The runtime's report of an unusable NOTIFY_SOCKET: one line, whatever the number of failed sends.
  const failing = nModel.kind !== 'sent' && nModel.kind !== 'disabled';
  const reportPrefix = '<3>sd-daemon-runtime: cannot tell the service manager (NOTIFY_SOCKET=';
  const reports = run.stderr.split('\n').filter((line) => line.startsWith(reportPrefix));
  if (reports.length !== (failing ? 1 : 0))
    fail('stderr', `${reports.length} report line(s) ${show(reports)}, expected ${failing ? 1 : 0} (NOTIFY_SOCKET is ${nModel.kind})`);
  const rest = run.stderr
    .split('\n')
    .filter((line) => !line.startsWith(reportPrefix))
    .join('\n');
  if (rest !== wantStderr) {
    const extra = rest.split('\n').find((line) => line !== '' && `${line}\n` !== wantStderr) ?? '(the log record is missing or differs)';
    fail('stderr', `unexpected output ${show(extra)}; stderr is ${show(run.stderr)}, expected only ${show(wantStderr)}`);
  }

  if (
    !same(report.capabilities, { ok: { native: true, nativeError: null, notify: true, fdPassing: true, vsock: false, platform: 'linux' } })
  ) {
    fail('capabilities', show(report.capabilities));
  }
  return problems;
}
