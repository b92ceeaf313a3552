// Notify payloads through the typed doors (ready(), status(), storeFds(),
// barrier(), the watchdog keeper...; the harness and the contract:
// test/helpers/notify-payloads.ts): bad input is refused naming the field or
// option, and valid extremes go out as their exact wire text.
import {
  barrier,
  errno,
  extendTimeout,
  mainPid,
  ready,
  reloading,
  removeStoredFds,
  setWatchdogUsec,
  startWatchdog,
  status,
  stopping,
  storeFds,
  watchdogPing,
  watchdogTrigger,
} from 'sd-daemon-runtime';

import { assertClean, devNull, describePayloads, type Rejected, receiver, runAccepted, runRejected } from '../helpers/notify-payloads.js';

describePayloads('doors', function () {
  describe('the typed doors', function () {
    it('each refuses bad input naming the field or option, before sending', async function () {
      const rows: Rejected[] = [
        { what: "ready({ status: 'a\\nb' })", call: (env) => ready({ env, status: 'a\nREADY=1' }), error: 'TypeError', names: 'STATUS' },
        { what: "ready({ status: 'a\\0b' })", call: (env) => ready({ env, status: 'a\0b' }), error: 'TypeError', names: 'STATUS' },
        {
          what: 'ready({ status: 4097 bytes })',
          call: (env) => ready({ env, status: 's'.repeat(4090) }),
          error: 'RangeError',
          names: /4096/,
        },
        { what: "reloading({ status: 'x\\n' })", call: (env) => reloading({ env, status: 'x\n' }), error: 'TypeError', names: 'STATUS' },
        { what: "stopping({ status: '\\0' })", call: (env) => stopping({ env, status: '\0' }), error: 'TypeError', names: 'STATUS' },
        { what: "status('a\\nb')", call: (env) => status('a\nb', { env }), error: 'TypeError', names: 'STATUS' },
        { what: 'status(null)', call: (env) => status(null as never, { env }), error: 'TypeError', names: 'STATUS' },
        { what: 'status(5000 characters)', call: (env) => status('x'.repeat(5000), { env }), error: 'RangeError', names: /4096/ },
        { what: 'errno(-1)', call: (env) => errno(-1, { env }), error: 'RangeError', names: 'ERRNO' },
        { what: 'errno(NaN)', call: (env) => errno(NaN, { env }), error: 'RangeError', names: 'ERRNO' },
        { what: 'errno(1.5)', call: (env) => errno(1.5, { env }), error: 'RangeError', names: 'ERRNO' },
        { what: "errno('5')", call: (env) => errno('5' as never, { env }), error: 'TypeError', names: 'ERRNO' },
        { what: "errno(5, { status: 'a\\nb' })", call: (env) => errno(5, { env, status: 'a\nb' }), error: 'TypeError', names: 'STATUS' },
        { what: 'mainPid(0)', call: (env) => mainPid(0, { env }), error: 'RangeError', names: 'MAINPID' },
        { what: 'mainPid(-1)', call: (env) => mainPid(-1, { env }), error: 'RangeError', names: 'MAINPID' },
        { what: 'mainPid(NaN)', call: (env) => mainPid(NaN, { env }), error: 'RangeError', names: 'MAINPID' },
        { what: 'extendTimeout(-1)', call: (env) => extendTimeout(-1, { env }), error: 'RangeError', names: 'EXTEND_TIMEOUT_USEC' },
        { what: 'extendTimeout(NaN)', call: (env) => extendTimeout(NaN, { env }), error: 'RangeError', names: 'EXTEND_TIMEOUT_USEC' },
        {
          what: 'extendTimeout(Infinity)',
          call: (env) => extendTimeout(Infinity, { env }),
          error: 'RangeError',
          names: 'EXTEND_TIMEOUT_USEC',
        },
        {
          what: 'extendTimeout(2^60 ms)',
          call: (env) => extendTimeout(2 ** 60, { env }),
          error: 'RangeError',
          names: 'EXTEND_TIMEOUT_USEC',
        },
        {
          what: 'extendTimeout(-1) with unsetEnv',
          call: (env) => extendTimeout(-1, { env, unsetEnv: true }),
          error: 'RangeError',
          names: 'EXTEND_TIMEOUT_USEC',
          unsets: true,
        },
        { what: 'setWatchdogUsec(-1)', call: (env) => setWatchdogUsec(-1, { env }), error: 'RangeError', names: 'WATCHDOG_USEC' },
        { what: 'setWatchdogUsec(-1n)', call: (env) => setWatchdogUsec(-1n, { env }), error: 'RangeError', names: 'WATCHDOG_USEC' },
        { what: 'setWatchdogUsec(NaN)', call: (env) => setWatchdogUsec(NaN, { env }), error: 'RangeError', names: 'WATCHDOG_USEC' },
        { what: "storeFds('a:b', [fd])", call: (env) => storeFds('a:b', [devNull], { env }), error: 'TypeError', names: 'FDNAME' },
        { what: "storeFds('a\\nb', [fd])", call: (env) => storeFds('a\nb', [devNull], { env }), error: 'TypeError', names: 'FDNAME' },
        {
          what: 'storeFds(256 characters, [fd])',
          call: (env) => storeFds('n'.repeat(256), [devNull], { env }),
          error: 'TypeError',
          names: 'FDNAME',
        },
        {
          what: "storeFds('w\u00e9b', [fd])",
          call: (env) => storeFds('w\u00e9b', [devNull], { env }),
          error: 'TypeError',
          names: 'FDNAME',
        },
        { what: "removeStoredFds('a:b')", call: (env) => removeStoredFds('a:b', { env }), error: 'TypeError', names: 'FDNAME' },
        { what: "removeStoredFds('\\u0001')", call: (env) => removeStoredFds('\u0001', { env }), error: 'TypeError', names: 'FDNAME' },
        { what: 'barrier({ timeoutMs: -1 })', call: (env) => barrier({ env, timeoutMs: -1 }), error: 'RangeError', names: 'timeoutMs' },
        { what: 'barrier({ timeoutMs: NaN })', call: (env) => barrier({ env, timeoutMs: NaN }), error: 'RangeError', names: 'timeoutMs' },
        {
          what: 'barrier({ timeoutMs: Infinity })',
          call: (env) => barrier({ env, timeoutMs: Infinity }),
          error: 'RangeError',
          names: 'timeoutMs',
        },
        { what: 'barrier({ pid: 0 })', call: (env) => barrier({ env, pid: 0, timeoutMs: 1000 }), error: 'RangeError', names: 'pid' },
        { what: 'watchdogPing({ pid: -1 })', call: (env) => watchdogPing({ env, pid: -1 }), error: 'RangeError', names: 'pid' },
        {
          what: 'watchdogTrigger({ fds: [-1] })',
          call: (env) => watchdogTrigger({ env, fds: [-1] }),
          error: 'TypeError',
          names: /file descriptor/,
        },
      ];
      // The keeper's setTimeout() is a door onto WATCHDOG_USEC= too. Its first
      // ping goes out at start: drained before the row is judged.
      for (const [what, ms] of [
        ['0', 0],
        ['-1', -1],
        ['NaN', NaN],
        ['Infinity', Infinity],
      ] as const) {
        rows.push({
          what: `watchdog keeper setTimeout(${what})`,
          call: async (env) => {
            const keeper = startWatchdog({ env: { ...env, WATCHDOG_USEC: '60000000' }, logger: null });
            await receiver.sync();
            receiver.takeAll();
            try {
              return keeper.setTimeout(ms);
            } finally {
              keeper.stop();
            }
          },
          error: 'RangeError',
          names: 'setTimeout',
        });
      }
      const problems = await runRejected(rows);
      assertClean(problems);
    });

    it('each refuses a value outside its documented type or range', async function () {
      assertClean(
        await runRejected([
          { what: 'status(42)', call: (env) => status(42 as never, { env }), error: 'TypeError', names: 'STATUS' },
          { what: 'mainPid(2^31)', call: (env) => mainPid(2 ** 31, { env }), error: 'RangeError', names: 'MAINPID' },
          { what: 'storeFds(5, [fd])', call: (env) => storeFds(5 as never, [devNull], { env }), error: 'TypeError', names: 'FDNAME' },
          { what: 'errno(5n)', call: (env) => errno(5n as never, { env }), error: 'TypeError', names: 'ERRNO' },
          { what: 'removeStoredFds(null)', call: (env) => removeStoredFds(null as never, { env }), error: 'TypeError', names: 'FDNAME' },
        ]),
      );
    });

    it('each sends its exact wire text at valid extremes', async function () {
      assertClean(
        await runAccepted([
          { what: 'errno(0)', call: (env) => errno(0, { env }), text: 'ERRNO=0' },
          { what: 'extendTimeout(0.0004) rounds to 0 usec', call: (env) => extendTimeout(0.0004, { env }), text: 'EXTEND_TIMEOUT_USEC=0' },
          {
            what: 'setWatchdogUsec(2^64 - 2)',
            call: (env) => setWatchdogUsec(2n ** 64n - 2n, { env }),
            text: 'WATCHDOG_USEC=18446744073709551614',
          },
          { what: 'mainPid(our pid)', call: (env) => mainPid(process.pid, { env }), text: `MAINPID=${process.pid}` },
          {
            what: 'status() of 4089 bytes (4096 with STATUS=)',
            call: (env) => status('s'.repeat(4089), { env }),
            text: `STATUS=${'s'.repeat(4089)}`,
          },
          { what: 'reloading() carries MONOTONIC_USEC', call: (env) => reloading({ env }), text: /^RELOADING=1\nMONOTONIC_USEC=[0-9]+$/ },
          {
            what: 'barrier() resolves once the receiver closes the fd',
            call: (env) => barrier({ env, timeoutMs: 10_000 }),
            text: 'BARRIER=1',
            fds: 1,
          },
        ]),
      );
    });
  });
});
