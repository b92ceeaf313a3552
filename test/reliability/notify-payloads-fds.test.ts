// Notify payloads carrying file descriptors (the harness and the contract:
// test/helpers/notify-payloads.ts): 254 real fds are refused in every form
// and 253 arrive; what is not an fd, or not a pid, is refused before sending.
import { notify, storeFds } from 'sd-daemon-runtime';

import { assertClean, devNull, describePayloads, many, type Rejected, runAccepted, runRejected } from '../helpers/notify-payloads.js';

describePayloads('fds', function () {
  describe('file descriptors (real ones)', function () {
    it('254 fds is a RangeError naming the limit in every form; 253 pass and arrive', async function () {
      const fds254 = many;
      const fds253 = many.slice(0, 253);
      assertClean(
        await runRejected([
          {
            what: 'object form, 254 fds',
            call: (env) => notify({ FDSTORE: 1, FDNAME: 'many' }, { env, fds: fds254 }),
            error: 'RangeError',
            names: /254.*253/,
          },
          {
            what: 'raw form, 254 fds',
            call: (env) => notify('FDSTORE=1\nFDNAME=many', { env, fds: fds254 }),
            error: 'RangeError',
            names: /254.*253/,
          },
          { what: 'storeFds(), 254 fds', call: (env) => storeFds('many', fds254, { env }), error: 'RangeError', names: /254.*253/ },
          {
            what: 'storeFds(), 254 fds, with unsetEnv',
            call: (env) => storeFds('many', fds254, { env, unsetEnv: true }),
            error: 'RangeError',
            names: /253/,
            unsets: true,
          },
          {
            what: 'object form, 1000 copies of one fd',
            call: (env) => notify({ FDSTORE: 1 }, { env, fds: Array(1000).fill(devNull) }),
            error: 'RangeError',
            names: /1000.*253/,
          },
        ]),
      );
      assertClean(
        await runAccepted([
          {
            what: 'object form, 253 fds',
            call: (env) => notify({ FDSTORE: 1, FDNAME: 'many' }, { env, fds: fds253 }),
            text: 'FDSTORE=1\nFDNAME=many',
            fds: 253,
          },
          {
            what: 'storeFds(), 253 fds, FDPOLL=0',
            call: (env) => storeFds('many', fds253, { env, poll: false }),
            text: 'FDSTORE=1\nFDNAME=many\nFDPOLL=0',
            fds: 253,
          },
        ]),
      );
    });

    it('refuses what is not an fd, naming it, before sending anything', async function () {
      const notFd = (what: string, fd: unknown, error: 'TypeError' | 'RangeError' = 'TypeError'): Rejected => ({
        what: `fds: [${what}]`,
        call: (env) => notify({ FDSTORE: 1, FDNAME: 'x' }, { env, fds: [fd as number] }),
        error,
        names: /file descriptor/,
      });
      assertClean(
        await runRejected([
          notFd('-1', -1),
          notFd('1.5', 1.5),
          notFd('NaN', NaN),
          notFd("'3'", '3'),
          notFd('true', true),
          notFd('{}', {}),
          notFd('{ fd: -1 }', { fd: -1 }),
          notFd('null', null),
          notFd('undefined', undefined),
          // Not an int: the kernel's fds are ints. 2^32 + fd must not become fd (it is our /dev/null here).
          notFd('2^32 + an open fd', 2 ** 32 + devNull),
          notFd('{ fd: 2^32 + an open fd }', { fd: 2 ** 32 + devNull }),
          {
            what: 'FDSTORE=1 without fds',
            call: (env) => notify({ FDSTORE: 1, FDNAME: 'x' }, { env }),
            error: 'TypeError',
            names: 'FDSTORE',
          },
          { what: 'storeFds() with no fds', call: (env) => storeFds('x', [], { env }), error: 'TypeError', names: 'FDSTORE' },
        ]),
      );
    });

    it('refuses a pid option that is not a pid', async function () {
      const badPid = (what: string, pid: unknown): Rejected => ({
        what: `pid: ${what}`,
        call: (env) => notify('READY=1', { env, pid: pid as number }),
        error: 'RangeError',
        names: 'pid',
      });
      assertClean(
        await runRejected([
          badPid('0', 0),
          badPid('-1', -1),
          badPid('1.5', 1.5),
          badPid('NaN', NaN),
          badPid("'5'", '5'),
          // pid_t is an int: these cannot name a process (2^32 + our pid would be sent as our own pid).
          badPid('2^31', 2 ** 31),
          badPid('2^32 + our pid', 2 ** 32 + process.pid),
        ]),
      );
    });
  });
});
